import { decodeJwt, exportJWK, generateKeyPair, calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmationThumbprint, verifyDpopProof } from '../support/dpop.js';
import { sendJson, startServer } from '../support/http.js';
import { CLIENTS, RESOURCES, SCOPES, startIdp, type TestIdp } from '../support/idp.js';
import { createTestPki, MTLS_CLIENTS, startMtlsIdp, type TestPki } from '../support/mtls.js';
import { startTokenExchangeIdp, type TokenExchangeIdp } from '../support/token-exchange.js';
import { assertBuilt, expectNoSecrets, runCli, tempDir, type CliResult } from './run-cli.js';

let idp: TestIdp;
let files: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  assertBuilt();
  idp = await startIdp();
  files = await tempDir();
});
afterAll(async () => {
  await idp?.close();
  await files?.remove();
});

const basic = () => ['token', '--issuer', idp.issuer, '--client-id', CLIENTS.basic.clientId];
const basicEnv = () => ({ S2S_AUTH_CLIENT_SECRET: CLIENTS.basic.clientSecret });

describe('s2s-auth token', () => {
  it('prints the token response as JSON, with the secret from S2S_AUTH_CLIENT_SECRET', async () => {
    const result = await runCli([...basic(), '--scope', SCOPES.ordersRead], { env: basicEnv() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const token = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(token).toMatchObject({
      token_type: 'Bearer',
      scope: SCOPES.ordersRead,
      expires_in: 300,
    });
    expect(token.expires_at).toEqual(expect.any(Number));
    expect(decodeJwt(token.access_token as string)).toMatchObject({
      aud: RESOURCES.jwt,
      client_id: CLIENTS.basic.clientId,
    });
    expectNoSecrets(result, [CLIENTS.basic.clientSecret]);
  });

  it('prints only the access token with --raw', async () => {
    const result = await runCli([...basic(), '--raw'], { env: basicEnv() });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  it('takes repeated --scope and --resource options', async () => {
    const result = await runCli(
      [...basic(), '--scope', SCOPES.inventoryRead, '--resource', RESOURCES.es256, '--raw'],
      { env: basicEnv() },
    );
    expect(result.code).toBe(0);
    expect(decodeJwt(result.stdout.trim())).toMatchObject({
      aud: RESOURCES.es256,
      scope: SCOPES.inventoryRead,
    });

    const both = await runCli(
      [...basic(), '--scope', SCOPES.ordersRead, '--scope', SCOPES.ordersWrite],
      { env: basicEnv() },
    );
    expect(both.code).toBe(0);
    expect((JSON.parse(both.stdout) as { scope: string }).scope.split(' ').sort()).toEqual([
      SCOPES.ordersRead,
      SCOPES.ordersWrite,
    ]);
  });

  it('reads the client secret from standard input with --client-secret -', async () => {
    const result = await runCli([...basic(), '--client-secret', '-', '--raw'], {
      stdin: `${CLIENTS.basic.clientSecret}\n`,
    });
    expect(result.code).toBe(0);
    expectNoSecrets(result, [CLIENTS.basic.clientSecret]);
  });

  it('reads the client secret from a named variable or a file', async () => {
    const viaEnv = await runCli([...basic(), '--client-secret', 'env:ORDERS_SECRET', '--raw'], {
      env: { ORDERS_SECRET: CLIENTS.basic.clientSecret },
    });
    expect(viaEnv.code).toBe(0);
    const path = await files.write('secret.txt', `${CLIENTS.basic.clientSecret}\n`);
    const viaFile = await runCli([...basic(), '--client-secret', `file:${path}`, '--raw']);
    expect(viaFile.code).toBe(0);
  });

  it('authenticates with client_secret_post', async () => {
    const result = await runCli(
      [
        'token',
        '--issuer',
        idp.issuer,
        '--client-id',
        CLIENTS.post.clientId,
        '--client-auth',
        'client_secret_post',
      ],
      { env: { S2S_AUTH_CLIENT_SECRET: CLIENTS.post.clientSecret } },
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ token_type: 'Bearer' });
  });

  it('authenticates with private_key_jwt and a JWK file', async () => {
    const path = await files.write(
      'client-key.json',
      JSON.stringify(CLIENTS.privateKeyJwt.privateJwk),
    );
    const result = await runCli([
      'token',
      '--issuer',
      idp.issuer,
      '--client-id',
      CLIENTS.privateKeyJwt.clientId,
      '--client-auth',
      'private_key_jwt',
      '--private-key',
      path,
      '--raw',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(decodeJwt(result.stdout.trim())).toMatchObject({
      client_id: CLIENTS.privateKeyJwt.clientId,
    });
    expectNoSecrets(result, [CLIENTS.privateKeyJwt.privateJwk.d!]);
  });

  it('binds the token to a fresh DPoP key with --dpop, and says the key ends with the command', async () => {
    idp.resetRequests();
    const result = await runCli(
      ['token', '--issuer', idp.issuer, '--client-id', CLIENTS.dpopOnly.clientId, '--dpop'],
      { env: { S2S_AUTH_CLIENT_SECRET: CLIENTS.dpopOnly.clientSecret } },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('fresh DPoP key');
    const token = JSON.parse(result.stdout) as { token_type: string; access_token: string };
    expect(token.token_type).toBe('DPoP');
    const request = idp.requests.find((r) => r.path === '/token');
    const proof = await verifyDpopProof(request?.headers.dpop);
    expect(confirmationThumbprint(token.access_token)).toBe(proof.jkt);
  });

  it('binds the token to the key in --dpop-key', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    const path = await files.write('dpop-key.json', JSON.stringify(jwk));
    const result = await runCli(
      [
        'token',
        '--issuer',
        idp.issuer,
        '--client-id',
        CLIENTS.dpopOnly.clientId,
        '--dpop-key',
        path,
        '--raw',
      ],
      { env: { S2S_AUTH_CLIENT_SECRET: CLIENTS.dpopOnly.clientSecret } },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { d: _d, ...publicJwk } = jwk;
    expect(confirmationThumbprint(result.stdout.trim())).toBe(
      await calculateJwkThumbprint(publicJwk, 'sha256'),
    );
    expectNoSecrets(result, [jwk.d!]);
  });

  it('exits 3 with the OAuth error on a bad secret, and prints neither secret', async () => {
    const wrong = 'not-the-right-secret:%+ 42';
    const result = await runCli([...basic()], { env: { S2S_AUTH_CLIENT_SECRET: wrong } });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^s2s-auth token: the authorization server refused the request: invalid_client \(HTTP 401\)/,
    );
    expectNoSecrets(result, [wrong, CLIENTS.basic.clientSecret]);
  });

  it('keeps the secret out of the --debug output too', async () => {
    const wrong = 'debug-secret-value-7f3a';
    const result = await runCli([...basic(), '--debug'], {
      env: { S2S_AUTH_CLIENT_SECRET: wrong },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('OAuthError');
    expectNoSecrets(result, [wrong]);
  });

  it('exits 3 on a scope the client may not have', async () => {
    const result = await runCli([...basic(), '--scope', SCOPES.ordersAdmin], { env: basicEnv() });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('invalid_scope');
  });

  it.each([
    ['a terminal escape sequence', '\u001b]52;c;b3duZWQ=\u0007\u001b[2Jfake-token'],
    ['a line break', 'fake-token\nexport PATH=/tmp'],
    ['a C1 control and non-ASCII text', 'fake-\u009b31m-tökén'],
  ])(
    'prints no control character with --raw when a server answers a token with %s',
    async (_, accessToken) => {
      const hostile = await startServer((_request, response) =>
        sendJson(response, 200, {
          access_token: accessToken,
          token_type: 'Bearer',
          expires_in: 60,
        }),
      );
      try {
        const result = await runCli(
          ['token', '--token-endpoint', `${hostile.origin}/token`, '--client-id', 'x', '--raw'],
          { env: basicEnv() },
        );
        expect(result.code).toBe(4);
        expect(result.stdout).toBe('');
        expect(result.stderr).toContain('access_token: expected printable ASCII');
        expect(`${result.stdout}${result.stderr}`).not.toMatch(
          /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/,
        );
        expect(result.stderr).not.toContain(accessToken);
      } finally {
        await hostile.close();
      }
    },
  );

  it('exits 4 when the authorization server cannot be reached', async () => {
    const closed = await startIdp();
    await closed.close();
    const result = await runCli(
      ['token', '--issuer', closed.issuer, '--client-id', 'x', '--timeout', '2000'],
      { env: basicEnv() },
    );
    expect(result.code).toBe(4);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('could not reach');
    expectNoSecrets(result, [CLIENTS.basic.clientSecret]);
  });
});

describe('s2s-auth token --client-assertion', () => {
  let exchangeIdp: TokenExchangeIdp;
  beforeAll(async () => {
    exchangeIdp = await startTokenExchangeIdp();
  });
  afterAll(() => exchangeIdp?.close());

  const workload = (...options: string[]) => [
    'token',
    '--issuer',
    exchangeIdp.issuer,
    '--client-id',
    exchangeIdp.workload.clientId,
    '--scope',
    'orders:read',
    ...options,
  ];

  it('authenticates with a workload identity token read from a file, sent as client_assertion', async () => {
    const assertion = await exchangeIdp.workload.assertion();
    const path = await files.write('idp-token', `${assertion}\n`);
    exchangeIdp.resetRequests();
    const result = await runCli(workload('--client-assertion', path, '--raw'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(decodeJwt(result.stdout.trim())).toMatchObject({
      client_id: exchangeIdp.workload.clientId,
      scope: 'orders:read',
    });
    expect(exchangeIdp.requests.filter((r) => r.path === '/token')).toHaveLength(1);
    expectNoSecrets(result, [assertion, assertion.split('.')[2]!]);
  });

  it('reads the assertion from a variable or standard input too', async () => {
    const assertion = await exchangeIdp.workload.assertion();
    const viaEnv = await runCli(workload('--client-assertion', 'env:IDP_TOKEN', '--raw'), {
      env: { IDP_TOKEN: assertion },
    });
    expect(viaEnv.code).toBe(0);
    const viaStdin = await runCli(workload('--client-assertion', '-', '--raw'), {
      stdin: `${await exchangeIdp.workload.assertion()}\n`,
    });
    expect(viaStdin.code).toBe(0);
  });

  it('exits 3 when the IdP refuses an assertion signed by another key, and prints none of it', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const assertion = await exchangeIdp.workload.assertion({ key: privateKey });
    const result = await runCli(workload('--client-assertion', 'env:IDP_TOKEN'), {
      env: { IDP_TOKEN: assertion },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('invalid_client');
    expectNoSecrets(result, [assertion, assertion.split('.')[2]!]);
  });

  it('exits 2 for an expired assertion in the file, naming the option and not the path', async () => {
    const expired = await exchangeIdp.workload.assertion({ claims: { exp: 1_000_000_000 } });
    const path = await files.write('expired-token', expired);
    const result = await runCli(workload('--client-assertion', path));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^s2s-auth token: the file named by --client-assertion gave a client assertion that expired/,
    );
    expectNoSecrets(result, [expired, path, files.dir]);
  });

  it('exits 2 for a file that holds no JWS, naming the option and not the path', async () => {
    const path = await files.write('not-a-token', 'hello world\n');
    const result = await runCli(workload('--client-assertion', path, '--debug'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^s2s-auth token: the file named by --client-assertion gave a client assertion that is not a compact JWS/,
    );
    expectNoSecrets(result, [path, files.dir]);
  });

  it('sends the type of --client-assertion-type', async () => {
    const assertion = await exchangeIdp.workload.assertion();
    const result = await runCli(
      workload(
        '--client-assertion',
        'env:IDP_TOKEN',
        '--client-assertion-type',
        'urn:example:assertion-type:other',
      ),
      { env: { IDP_TOKEN: assertion } },
    );
    // oidc-provider knows only the JWT bearer type: the IdP saw the other one, and refused it.
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('invalid_request');
    expect(exchangeIdp.errors.map((e) => e.error.error_description).join('\n')).toContain(
      'client_assertion_type',
    );
  });
});

describe('s2s-auth token with a client certificate (mutual TLS)', () => {
  let pki: TestPki;
  let mtlsIdp: Awaited<ReturnType<typeof startMtlsIdp>>;
  let paths: { cert: string; key: string; ca: string; selfSigned: string; selfSignedKey: string };
  beforeAll(async () => {
    pki = createTestPki();
    mtlsIdp = await startMtlsIdp(pki);
    paths = {
      cert: await files.write('client.pem', pki.client.cert),
      key: await files.write('client.key', pki.client.key),
      ca: await files.write('ca.pem', pki.ca.cert),
      selfSigned: await files.write('self-signed.pem', pki.selfSigned.cert),
      selfSignedKey: await files.write('self-signed.key', pki.selfSigned.key),
    };
  });
  afterAll(async () => {
    await mtlsIdp?.close();
    pki?.remove();
  });

  const mtls = (clientId: string, ...options: string[]) => [
    'token',
    '--issuer',
    mtlsIdp.issuer,
    '--client-id',
    clientId,
    '--ca',
    paths.ca,
    ...options,
  ];

  it('authenticates with tls_client_auth from --cert and --key, and binds the token to the certificate', async () => {
    const result = await runCli(
      mtls(MTLS_CLIENTS.tlsClientAuth.clientId, '--cert', paths.cert, '--key', paths.key, '--raw'),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(decodeJwt(result.stdout.trim())).toMatchObject({
      client_id: MTLS_CLIENTS.tlsClientAuth.clientId,
      cnf: { 'x5t#S256': pki.client.thumbprint },
    });
    expect(mtlsIdp.aliasRequests.some((request) => request.clientCertificate)).toBe(true);
    expectNoSecrets(result, [pki.client.key]);
  });

  it('authenticates with self_signed_tls_client_auth when --client-auth says so', async () => {
    const result = await runCli(
      mtls(
        MTLS_CLIENTS.selfSigned.clientId,
        '--client-auth',
        'self_signed_tls_client_auth',
        '--cert',
        paths.selfSigned,
        '--key',
        `file:${paths.selfSignedKey}`,
        '--raw',
      ),
    );
    expect(result.code).toBe(0);
    expect(decodeJwt(result.stdout.trim())).toMatchObject({
      cnf: { 'x5t#S256': pki.selfSigned.thumbprint },
    });
  });

  it('exits 3 when the certificate is not the one registered, and prints no key', async () => {
    const result = await runCli(
      mtls(
        MTLS_CLIENTS.tlsClientAuth.clientId,
        '--cert',
        paths.selfSigned,
        '--key',
        paths.selfSignedKey,
      ),
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('invalid_client');
    expectNoSecrets(result, [pki.selfSigned.key, pki.client.key]);
  });
});

describe('s2s-auth token usage errors for the credential options', () => {
  /** Exit 2 on one line, before anything is sent: the issuer does not exist. */
  async function expectUsage(args: string[], message: string, env: Record<string, string> = {}) {
    const result: CliResult = await runCli(
      ['token', '--issuer', 'https://idp.invalid', '--client-id', 'x', ...args],
      { env },
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`s2s-auth token: ${message}\n`);
  }

  it('refuses --client-assertion beside --client-secret or --private-key', async () => {
    const message =
      '--client-assertion cannot be combined with --client-secret or --private-key: the assertion is the credential';
    await expectUsage(['--client-assertion', 'env:A', '--client-secret', 'env:S'], message);
    await expectUsage(['--client-assertion', 'env:A', '--private-key', 'key.json'], message);
  });

  it('refuses --client-assertion beside a certificate or another method', async () => {
    await expectUsage(
      ['--client-assertion', 'env:A', '--cert', 'c.pem', '--key', 'c.key'],
      '--client-assertion cannot be combined with --cert and --key',
    );
    await expectUsage(
      ['--client-assertion', 'env:A', '--client-auth', 'client_secret_post'],
      '--client-assertion authenticates with client_assertion, not client_secret_post',
    );
  });

  it('refuses client_assertion without an assertion, and an assertion type without one', async () => {
    await expectUsage(
      ['--client-auth', 'client_assertion'],
      'client_assertion needs --client-assertion',
    );
    await expectUsage(
      ['--client-assertion-type', 'urn:example:x'],
      '--client-assertion-type applies only with --client-assertion',
      { S2S_AUTH_CLIENT_SECRET: 'x' },
    );
  });

  it('refuses --cert without --key and --key without --cert', async () => {
    const message = '--cert and --key go together: give both, or neither';
    await expectUsage(['--cert', 'c.pem'], message);
    await expectUsage(['--key', 'c.key'], message);
  });

  it('refuses a certificate beside a secret, a key or a non-TLS method', async () => {
    const pair = ['--cert', 'c.pem', '--key', 'c.key'];
    const message =
      '--cert and --key cannot be combined with --client-secret or --private-key: the certificate is the credential';
    await expectUsage([...pair, '--client-secret', 'env:S'], message);
    await expectUsage([...pair, '--private-key', 'key.json'], message);
    await expectUsage(
      [...pair, '--client-auth', 'private_key_jwt'],
      '--cert and --key authenticate with tls_client_auth or self_signed_tls_client_auth, not private_key_jwt',
    );
  });

  it('refuses a TLS method without a certificate, and --ca without one', async () => {
    await expectUsage(
      ['--client-auth', 'self_signed_tls_client_auth'],
      'self_signed_tls_client_auth needs --cert and --key',
    );
    await expectUsage(['--ca', 'ca.pem'], '--ca applies only with --cert and --key', {
      S2S_AUTH_CLIENT_SECRET: 'x',
    });
  });

  it('refuses an assertion file that cannot be read, without its path', async () => {
    await expectUsage(
      ['--client-assertion', `${files.dir}/missing-token`],
      'the client assertion: cannot read the file named on the command line (ENOENT)',
    );
  });
});
