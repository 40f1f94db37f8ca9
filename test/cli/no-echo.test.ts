/**
 * No error path of the CLI repeats an argument that may be a secret: a private JWK, a client
 * secret or a token given where a file, an environment variable or an option name belongs.
 * Each case runs the built command and checks both output streams, for the whole value and for
 * the private `d` of a key.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, expectNoSecrets, runCli, tempDir, type CliResult } from './run-cli.js';

let privateJwk: JWK;
let inline: string;
let files: Awaited<ReturnType<typeof tempDir>>;
const clientSecret = 'Xq7-client-secret-9f3c_never-echoed';
const token =
  'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJvcmRlcnMtd29ya2VyIn0.c2lnbmF0dXJlLW5ldmVyLWVjaG9lZA';
/** A workload identity token's shape: what --client-assertion and --subject-token read. */
const assertion =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJrOHMiLCJzdWIiOiJ3b3JrZXIifQ.YXNzZXJ0aW9uLW5ldmVyLWVjaG9lZA';

beforeAll(async () => {
  assertBuilt();
  files = await tempDir();
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  privateJwk = await exportJWK(privateKey);
  inline = JSON.stringify(privateJwk);
});
afterAll(() => files?.remove());

/** A usage error (exit 2) on one line of stderr, holding none of `secrets`. */
function expectRefusedQuietly(result: CliResult, secrets: readonly string[]): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expectNoSecrets(result, secrets);
}

const dpopProof = (...options: string[]) => [
  'dpop-proof',
  '--htm',
  'GET',
  '--htu',
  'https://orders.example.test/orders',
  ...options,
];

describe('a private JWK where a key file is expected', () => {
  it.each([
    ['as the path', (jwk: string) => jwk],
    ['after file:', (jwk: string) => `file:${jwk}`],
    ['with leading space', (jwk: string) => `  ${jwk}`],
    ['as a one-key set', (jwk: string) => `{"keys":[${jwk}]}`],
  ])('is refused %s without repeating the key or its d', async (_how, shape) => {
    const result = await runCli(dpopProof('--key', shape(inline)));
    expectRefusedQuietly(result, [inline, privateJwk.d!, privateJwk.x!]);
    expect(result.stderr).toBe(
      's2s-auth dpop-proof: the DPoP key looks like a key given on the command line, where it would leak into shell history and process lists: name a file, -, env:NAME or file:PATH instead\n',
    );
  });

  it('is refused after env: without naming the variable', async () => {
    const result = await runCli(dpopProof('--key', `env:${privateJwk.d!}`));
    expectRefusedQuietly(result, [privateJwk.d!]);
    expect(result.stderr).toBe(
      's2s-auth dpop-proof: the DPoP key: the environment variable named after env: is not set or empty\n',
    );
  });
});

describe('a path that cannot be read', () => {
  it('is reported without the path, which may be a pasted secret', async () => {
    const result = await runCli(dpopProof('--key', `${files.dir}/${clientSecret}`));
    expectRefusedQuietly(result, [clientSecret]);
    expect(result.stderr).toBe(
      's2s-auth dpop-proof: the DPoP key: cannot read the file named on the command line (ENOENT)\n',
    );
  });

  it('is reported without the path after file: for a secret', async () => {
    const result = await runCli([
      'introspect',
      '-',
      '--issuer',
      'https://idp.example.test',
      '--client-id',
      'ledger',
      '--client-secret',
      `file:${files.dir}/${clientSecret}`,
    ]);
    expectRefusedQuietly(result, [clientSecret]);
    expect(result.stderr).toContain('cannot read the file named on the command line (ENOENT)');
  });
});

describe('a secret or a token in the wrong place', () => {
  it('is not repeated when given as a literal client secret, or after env:', async () => {
    for (const value of [clientSecret, `env:${clientSecret}`]) {
      const result = await runCli(
        [
          'introspect',
          '--issuer',
          'https://idp.example.test',
          '--client-id',
          'ledger',
          '--client-secret',
          value,
          '-',
        ],
        { stdin: token },
      );
      expectRefusedQuietly(result, [clientSecret, token]);
    }
  });

  it('is not repeated when a token is the source argument, or after env:', async () => {
    const issuer = ['--issuer', 'https://idp.example.test'];
    const commands = [
      ['verify', ...issuer, '--audience', 'https://orders.example.test'],
      ['decode'],
      ['introspect', ...issuer, '--client-id', 'ledger', '--client-secret', 'env:SECRET'],
    ];
    for (const command of commands) {
      // decode takes the token itself (see below); after env: it is refused like the others.
      const sources = command[0] === 'decode' ? [`env:${token}`] : [token, `env:${token}`];
      for (const source of sources) {
        const result = await runCli([...command, source], { env: { SECRET: clientSecret } });
        expectRefusedQuietly(result, [token, token.split('.')[2]!, clientSecret]);
        // Refused for the token source, not for anything else on the line.
        expect(result.stderr).toMatch(
          /the token(: the environment variable named after env:| must name a source)/,
        );
      }
    }
  });

  it('is not repeated by decode, which takes the token itself and warns about it', async () => {
    const result = await runCli(['decode', token]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^s2s-auth decode: warning: a token given on the command line/);
    expectNoSecrets(result, [token, token.split('.')[2]!]);
  });

  it('is not repeated when a token is given as the access token of a proof', async () => {
    const result = await runCli(dpopProof('--access-token', token));
    expectRefusedQuietly(result, [token]);
  });

  it('is not repeated when a token, a key or a secret is given as the command', async () => {
    for (const first of [token, inline, clientSecret, `--${clientSecret}`]) {
      const result = await runCli([first]);
      expectRefusedQuietly(result, [token, inline, privateJwk.d!, clientSecret]);
      expect(result.stderr).toBe(
        `s2s-auth: unknown ${first.startsWith('-') ? 'option' : 'command'} (see \`s2s-auth --help\`)\n`,
      );
    }
  });

  it('is not repeated when pasted as an option name', async () => {
    for (const option of [`--${clientSecret}`, `--${token}`]) {
      const result = await runCli(['verify', option]);
      expectRefusedQuietly(result, [clientSecret, token]);
      // Not named, and no "did you mean" either: that would say something about it.
      expect(result.stderr).toBe(
        's2s-auth verify: unknown option (see `s2s-auth verify --help`)\n',
      );
    }
    const mistyped = await runCli(['verify', '--audiense', 'x']);
    expect(mistyped.stderr).toContain('unknown option --audiense; did you mean --audience?');
  });
});

describe('a client assertion, a subject token or a TLS key in the wrong place', () => {
  const token = (...options: string[]) => [
    'token',
    '--issuer',
    'https://idp.example.test',
    '--client-id',
    'orders-worker',
    ...options,
  ];
  const exchange = (...options: string[]) => [
    'exchange',
    '--issuer',
    'https://idp.example.test',
    '--client-id',
    'billing',
    '--client-secret',
    'env:SECRET',
    ...options,
  ];

  it('is not repeated when the assertion is given on the command line, or after env: or file:', async () => {
    for (const value of [assertion, `env:${assertion}`, `file:${files.dir}/${assertion}`]) {
      const result = await runCli(token('--client-assertion', value));
      expectRefusedQuietly(result, [assertion, assertion.split('.')[2]!]);
      expect(result.stderr).toMatch(/^s2s-auth token: the client assertion/);
    }
  });

  it('is not repeated when an assertion file holds something that is not one', async () => {
    const path = await files.write('assertion.txt', `${clientSecret}\n`);
    const result = await runCli([
      'token',
      '--token-endpoint',
      'http://127.0.0.1:9/token',
      '--client-id',
      'orders-worker',
      '--client-assertion',
      path,
      '--debug',
    ]);
    // Refused as it is read, before anything is sent.
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the file named by --client-assertion gave');
    expectNoSecrets(result, [clientSecret, path]);
  });

  it('is not repeated when the subject or actor token is given on the command line, or after env:', async () => {
    for (const args of [
      exchange('--subject-token', assertion),
      exchange('--subject-token', `env:${assertion}`),
      exchange('--subject-token', 'env:SECRET', '--actor-token', assertion),
      exchange('--subject-token', 'env:SECRET', '--actor-token', `env:${assertion}`),
    ]) {
      const result = await runCli([...args, '--audience', 'ledger'], {
        env: { SECRET: clientSecret },
      });
      expectRefusedQuietly(result, [assertion, assertion.split('.')[2]!, clientSecret]);
      expect(result.stderr).toMatch(/the (subject|actor) token/);
    }
  });

  it('is not repeated when a PEM key is pasted as --key', async () => {
    const pem = `-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIP${clientSecret}\n-----END PRIVATE KEY-----`;
    const result = await runCli(token('--cert', 'client.pem', '--key', pem));
    expectRefusedQuietly(result, [pem, clientSecret]);
  });
});
