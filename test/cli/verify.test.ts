import { importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENTS,
  mintAccessToken,
  RESOURCES,
  SCOPES,
  startIdp,
  type TestIdp,
} from '../support/idp.js';
import { assertBuilt, expectNoSecrets, runCli } from './run-cli.js';

let idp: TestIdp;
let token: string;

beforeAll(async () => {
  assertBuilt();
  idp = await startIdp();
  token = await mintAccessToken(idp, {
    scope: `${SCOPES.ordersRead} ${SCOPES.ordersWrite}`,
    resource: RESOURCES.jwt,
  });
});
afterAll(() => idp?.close());

/** A token signed with the IdP's own RS256 key, with the claims given. */
async function signWithIdpKey(claims: Record<string, unknown>, typ = 'at+jwt'): Promise<string> {
  const jwk = idp.keys.find((key) => key.alg === 'RS256')!;
  const key = await importJWK(jwk, 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid!, typ }).sign(key);
}

/** `verify` against the test IdP, for the orders resource unless the options name an audience. */
const verify = (...options: string[]) => [
  'verify',
  '--issuer',
  idp.issuer,
  ...(options.some((option) => option.endsWith('audience')) ? [] : ['--audience', RESOURCES.jwt]),
  ...options,
];

describe('s2s-auth verify', () => {
  it('prints the claims and exits 0 for a good token from S2S_AUTH_TOKEN', async () => {
    const result = await runCli(verify('--audience', RESOURCES.jwt, '--scope', SCOPES.ordersRead), {
      env: { S2S_AUTH_TOKEN: token },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      iss: idp.issuer,
      aud: RESOURCES.jwt,
      client_id: CLIENTS.basic.clientId,
    });
    expectNoSecrets(result, [token]);
  });

  it('reads the token from standard input with - or --token-stdin', async () => {
    for (const source of ['-', '--token-stdin']) {
      const result = await runCli(verify(source, '--audience', RESOURCES.jwt), {
        stdin: `${token}\n`,
      });
      expect(result.code).toBe(0);
    }
  });

  it('prints { valid, claims } with --json', async () => {
    const result = await runCli(verify('-', '--json'), { stdin: token });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: true, claims: { iss: idp.issuer } });
  });

  it('exits 1 with reason audience for a token meant for another service', async () => {
    const result = await runCli(verify('-', '--audience', RESOURCES.opaque), { stdin: token });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toBe(
      `s2s-auth verify: access token rejected (audience): the token is not meant for this resource: aud is "${RESOURCES.jwt}"; expected "${RESOURCES.opaque}" (the \`audience\` option)\n`,
    );
    expectNoSecrets(result, [token]);
  });

  it('exits 1 with reason scope when a required scope is missing', async () => {
    const result = await runCli(
      verify('-', '--scope', SCOPES.ordersRead, '--scope', SCOPES.ordersAdmin, '--json'),
      { stdin: token },
    );
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: false,
      reason: 'scope',
      status: 403,
      detail: expect.stringMatching(
        new RegExp(`^missing ${SCOPES.ordersAdmin}; the token grants "[^"]*${SCOPES.ordersRead}`),
      ) as unknown,
    });
  });

  it('exits 1 with reason signature for a tampered token, and never echoes it', async () => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    const tampered = `${header}.${payload}.${flipped}`;
    const result = await runCli(verify('-', '--debug'), { stdin: tampered });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('rejected (signature)');
    expectNoSecrets(result, [tampered, token]);
  });

  it('exits 1 with reason expired for an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await signWithIdpKey({
      iss: idp.issuer,
      aud: RESOURCES.jwt,
      sub: 'x',
      client_id: 'x',
      iat: now - 600,
      exp: now - 300,
      jti: 'j1',
    });
    const result = await runCli(verify('-', '--json'), { stdin: expired });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: false,
      reason: 'expired',
      detail: expect.stringMatching(
        /^exp is 3\d\d s before this server's clock; the clock tolerance is 30 s/,
      ) as unknown,
    });
  });

  it('checks typ at+jwt unless --no-typ-check', async () => {
    const now = Math.floor(Date.now() / 1000);
    const plainJwt = await signWithIdpKey(
      {
        iss: idp.issuer,
        aud: RESOURCES.jwt,
        sub: 'x',
        client_id: 'x',
        iat: now,
        exp: now + 300,
        jti: 'j2',
      },
      'JWT',
    );
    const strict = await runCli(verify('-', '--json'), { stdin: plainJwt });
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout)).toMatchObject({ reason: 'type' });
    const relaxed = await runCli(verify('-', '--no-typ-check'), { stdin: plainJwt });
    expect(relaxed.code).toBe(0);
  });

  it('exits 1 with reason malformed for something that is not a JWT', async () => {
    const result = await runCli(verify('-', '--json'), { stdin: 'not-a-jwt' });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: false, reason: 'malformed' });
  });

  it('uses --jwks-uri instead of discovery', async () => {
    idp.resetRequests();
    const result = await runCli(verify('-', '--jwks-uri', idp.endpoints.jwks), { stdin: token });
    expect(result.code).toBe(0);
    expect(idp.requests.map((request) => request.path)).toEqual(['/jwks']);
  });

  it("exits 4 when the issuer's keys cannot be fetched", async () => {
    const gone = await startIdp();
    await gone.close();
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: gone.issuer,
      aud: RESOURCES.jwt,
      sub: 'x',
      client_id: 'x',
      iat: now,
      exp: now + 300,
      jti: 'j3',
    };
    const result = await runCli(
      ['verify', '-', '--issuer', gone.issuer, '--audience', RESOURCES.jwt, '--json'],
      { stdin: await signWithIdpKey(claims) },
    );
    expect(result.code).toBe(4);
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: false, reason: 'jwks' });
  });

  it('requires --audience, naming --no-audience as the way to skip the check', async () => {
    const result = await runCli(['verify', '-', '--issuer', idp.issuer], { stdin: token });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      's2s-auth verify: --audience is required: the aud this token must name (or --no-audience to skip the check, which RFC 9068 §4 forbids)\n',
    );
    expectNoSecrets(result, [token]);
  });

  it('accepts a token for any audience with --no-audience, and refuses it combined with --audience', async () => {
    const other = await mintAccessToken(idp, {
      scope: SCOPES.inventoryRead,
      resource: RESOURCES.es256,
    });
    expect((await runCli(verify('-'), { stdin: other })).code).toBe(1);
    expect((await runCli(verify('-', '--no-audience'), { stdin: other })).code).toBe(0);
    const both = await runCli(verify('-', '--no-audience', '--audience', RESOURCES.jwt), {
      stdin: other,
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('s2s-auth verify: --audience and --no-audience cannot be combined\n');
  });

  it('requires the RFC 9068 claims, and takes --required-claim to change the list', async () => {
    const now = Math.floor(Date.now() / 1000);
    const withoutSub = await signWithIdpKey({
      iss: idp.issuer,
      aud: RESOURCES.jwt,
      client_id: 'x',
      iat: now,
      exp: now + 300,
      jti: 'j4',
    });
    const strict = await runCli(verify('-', '--json'), { stdin: withoutSub });
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout)).toMatchObject({
      valid: false,
      reason: 'claims',
      claim: 'sub',
    });
    expect(strict.stderr).toContain('the token lacks a required claim: no sub claim; required: ');
    const relaxed = await runCli(
      verify('-', '--required-claim', 'client_id', '--required-claim', 'jti'),
      { stdin: withoutSub },
    );
    expect(relaxed.code).toBe(0);
  });
});
