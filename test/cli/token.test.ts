import { decodeJwt, exportJWK, generateKeyPair, calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmationThumbprint, verifyDpopProof } from '../support/dpop.js';
import { sendJson, startServer } from '../support/http.js';
import { CLIENTS, RESOURCES, SCOPES, startIdp, type TestIdp } from '../support/idp.js';
import { assertBuilt, expectNoSecrets, runCli, tempDir } from './run-cli.js';

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
