import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from './run-cli.js';

const commands = ['token', 'exchange', 'verify', 'introspect', 'decode', 'dpop-proof'] as const;
const { version } = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'),
) as {
  version: string;
};

beforeAll(assertBuilt);

describe('s2s-auth --help and --version', () => {
  it('lists every command and the exit codes in the top-level help', async () => {
    const { code, stdout, stderr } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    for (const command of [...commands, 'keygen', 'dev-idp'])
      expect(stdout).toMatch(new RegExp(`^  ${command}\\s+\\S`, 'm'));
    expect(stdout).toContain('Exit codes:');
    expect(stdout).toMatch(/^ {2}3 {2}the authorization server refused/m);
  });

  it('prints the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const { code, stdout } = await runCli([flag]);
      expect(code).toBe(0);
      expect(stdout.trim()).toBe(version);
    }
  });

  it.each(commands)(
    'documents %s: its usage, options, secret sources and exit codes',
    async (command) => {
      for (const args of [
        [command, '--help'],
        [command, '-h'],
        ['help', command],
      ]) {
        const { code, stdout } = await runCli(args);
        expect(code).toBe(0);
        expect(stdout).toContain(`Usage: s2s-auth ${command}`);
        expect(stdout).toContain('Options:');
        expect(stdout).toContain('env:NAME');
        expect(stdout).toContain('Exit codes:');
      }
    },
  );

  it.each(['token', 'exchange'])(
    'documents the shared client and credential options in %s',
    async (command) => {
      const { stdout } = await runCli([command, '--help']);
      for (const option of [
        '--issuer',
        '--client-id',
        '--client-auth',
        '--client-secret',
        '--private-key',
        '--client-assertion <source>',
        '--client-assertion-type',
        '--cert',
        '--key',
        '--ca',
        '--dpop',
        '--timeout',
      ])
        expect(stdout).toContain(`  ${option}`);
    },
  );

  it('documents the token-exchange options and the token type names', async () => {
    const { stdout } = await runCli(['exchange', '--help']);
    for (const option of [
      '--subject-token <source>',
      '--subject-token-type',
      '--actor-token <source>',
      '--actor-token-type',
      '--requested-token-type',
      '--audience',
      '--resource',
      '--scope',
      '--raw',
    ])
      expect(stdout).toContain(`  ${option}`);
    expect(stdout).toContain('access_token, refresh_token, id_token, jwt, saml1, saml2');
  });

  it('shows help even when the rest of the command line is wrong', async () => {
    const { code, stdout } = await runCli(['verify', '--no-such-option', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: s2s-auth verify');
  });
});

describe('s2s-auth usage errors', () => {
  it('prints the help on stderr and exits 2 without a command', async () => {
    const { code, stdout, stderr } = await runCli([]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('Usage: s2s-auth <command>');
  });

  it('rejects an unknown command with exit code 2 and one line', async () => {
    const { code, stderr } = await runCli(['mint']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([
      's2s-auth: unknown command "mint" (see `s2s-auth --help`)',
    ]);
  });

  it('rejects an unknown option with exit code 2 and one line', async () => {
    const { code, stderr } = await runCli(['verify', '--colour', 'env:X']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([
      's2s-auth verify: unknown option --colour (see `s2s-auth verify --help`)',
    ]);
  });

  it.each([
    ['verfy', 'verify'],
    ['inspect', 'introspect'],
    ['keygn', 'keygen'],
    ['proof', 'dpop-proof'],
    ['idp', 'dev-idp'],
    ['exchang', 'exchange'],
  ])('asks whether the mistyped command %s meant %s', async (typed, meant) => {
    const { code, stdout, stderr } = await runCli([typed]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `s2s-auth: unknown command "${typed}"; did you mean "${meant}"? (see \`s2s-auth --help\`)\n`,
    );
  });

  it.each([
    ['token', '--client-secrett', '--client-secret'],
    ['token', '--clientId', '--client-id'],
    ['verify', '--audiense', '--audience'],
    ['verify', '--scopes', '--scope'],
    ['introspect', '--hint', '--token-type-hint'],
    ['keygen', '--output', '--out'],
    ['token', '--client-asertion', '--client-assertion'],
    ['exchange', '--subject-tokn', '--subject-token'],
  ])('asks whether %s %s meant %s', async (command, typed, meant) => {
    const { code, stderr } = await runCli([command, typed, 'x']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `s2s-auth ${command}: unknown option ${typed}; did you mean ${meant}? (see \`s2s-auth ${command} --help\`)\n`,
    );
  });

  it('asks whether a mistyped top-level option meant --version', async () => {
    const { code, stderr } = await runCli(['--verison']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      's2s-auth: unknown option --verison; did you mean --version? (see `s2s-auth --help`)\n',
    );
  });

  it('names a missing required option', async () => {
    const { code, stderr } = await runCli(['token', '--client-id', 'x']);
    expect(code).toBe(2);
    expect(stderr).toContain('--issuer is required (or set S2S_AUTH_ISSUER)');
  });

  it('refuses a client secret given on the command line, without echoing it', async () => {
    const secret = 'hunter2-on-the-command-line';
    const { code, stderr, stdout } = await runCli([
      'token',
      '--issuer',
      'http://127.0.0.1:9',
      '--client-id',
      'x',
      '--client-secret',
      secret,
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain('must name a source (a file path, -, env:NAME or file:PATH)');
    expect(stderr + stdout).not.toContain(secret);
  });

  it.each([
    ['verify', ['--issuer', 'http://127.0.0.1:9']],
    ['introspect', ['--issuer', 'http://127.0.0.1:9', '--client-id', 'x']],
  ])(
    '%s refuses a token given on the command line, without echoing it',
    async (command, options) => {
      const token = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
      const { code, stderr, stdout } = await runCli([command, token, ...options]);
      expect(code).toBe(2);
      expect(stderr).toContain('must name a source');
      expect(stderr + stdout).not.toContain(token);
    },
  );

  it('does not read two inputs from standard input', async () => {
    const { code, stderr } = await runCli(
      [
        'introspect',
        '-',
        '--issuer',
        'http://127.0.0.1:9',
        '--client-id',
        'x',
        '--client-secret',
        '-',
      ],
      { stdin: 'abc' },
    );
    expect(code).toBe(2);
    expect(stderr).toContain('cannot both come from standard input');
  });

  it('says that the environment variable is missing, without repeating what followed env:', async () => {
    const { code, stderr } = await runCli(['decode', 'env:MY_TOKEN']);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(
      's2s-auth decode: the token: the environment variable named after env: is not set or empty',
    );
  });

  it('does not quote a key file that is not JSON', async () => {
    const { code, stderr } = await runCli(
      ['dpop-proof', '--htm', 'GET', '--htu', 'https://a.example/', '--key', 'env:KEY'],
      {
        env: { KEY: '{"kty":"OKP","d":"c2VjcmV0LWtleS1tYXRlcmlhbA' },
      },
    );
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('s2s-auth dpop-proof: the DPoP key is not JSON (expected a JWK)');
  });

  it('maps bad SDK options to exit code 2', async () => {
    const { code, stderr } = await runCli(['token', '--issuer', 'not a url', '--client-id', 'x'], {
      env: { S2S_AUTH_CLIENT_SECRET: 's3cret-value' },
    });
    expect(code).toBe(2);
    expect(stderr).toContain('`issuer` must be an absolute http(s) URL');
    expect(stderr).not.toContain('s3cret-value');
  });
});
