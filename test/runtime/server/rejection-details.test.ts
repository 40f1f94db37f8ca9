/**
 * A refused token's error says what was expected and what was found, in the manner of
 * aws-jwt-verify's "Audience not allowed: X. Expected: Y": the `aud` and the expected audience,
 * the `iss` and the expected issuer, the missing scopes, the `typ` seen, the clock offset, the
 * `kid` and whether the key set has it. All of it goes to `TokenError.detail` and `message`;
 * none of it to the challenge, and never the token itself.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TokenError } from '../../../src/server.js';
import { AUDIENCE, ISSUER, accessToken, makeKey, setup, signJws } from './helpers.js';

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TokenError);
  return error as TokenError;
}

/** The error, and proof that its detail stays out of what the client is told. */
async function refused(server: { verifyToken(token: string): Promise<unknown> }, token: string) {
  const error = await rejection(server.verifyToken(token));
  expect(error.detail).toBeDefined();
  expect(error.message).toBe(
    `access token rejected (${error.reason}): ${error.errorDescription}: ${error.detail}`,
  );
  expect(error.wwwAuthenticate).toBe(
    `Bearer error="${error.error}", error_description="${error.errorDescription}"`,
  );
  for (const part of token.split('.')) {
    expect(error.message).not.toContain(part);
    expect(inspect(error, { depth: 4 })).not.toContain(part);
  }
  return error;
}

describe('what a refusal says', () => {
  it('names the aud found and the audience expected', async () => {
    const { server, key, now } = await setup();
    const token = await accessToken(key, now(), {
      aud: ['https://billing.example.test', 'https://other.example.test'],
    });
    expect((await refused(server, token)).message).toBe(
      `access token rejected (audience): the token is not meant for this resource: aud is ["https://billing.example.test","https://other.example.test"]; expected "${AUDIENCE}" (the \`audience\` option)`,
    );
  });

  it('names the iss found and the issuer expected', async () => {
    const { server, key, now } = await setup();
    const token = await accessToken(key, now(), { iss: 'https://evil.example.test' });
    expect((await refused(server, token)).message).toBe(
      `access token rejected (issuer): the token was not issued by the expected issuer: iss is "https://evil.example.test"; expected "${ISSUER}" (the \`issuer\` option)`,
    );
  });

  it('names the missing scopes and the ones granted', async () => {
    const { server, key, now } = await setup({ requiredScopes: ['orders:read', 'orders:admin'] });
    const error = await rejection(server.verifyToken(await accessToken(key, now())));
    expect(error).toMatchObject({ reason: 'scope', status: 403 });
    expect(error.message).toBe(
      'access token rejected (scope): the token lacks a required scope: missing orders:admin; the token grants "orders:read orders:write", read from scope (the `scopeClaims` option)',
    );
    expect(error.wwwAuthenticate).toBe(
      'Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="orders:read orders:admin"',
    );
  });

  it('gives the clock offset of an expired token, and of one not valid yet', async () => {
    const { server, key, now } = await setup();
    const expired = await accessToken(key, now(), { iat: now() - 400, exp: now() - 100 });
    expect((await refused(server, expired)).message).toBe(
      "access token rejected (expired): the token has expired: exp is 100 s before this server's clock; the clock tolerance is 30 s (the `clockToleranceSeconds` option)",
    );
    const early = await accessToken(key, now(), { nbf: now() + 120 });
    expect((await refused(server, early)).detail).toBe(
      "nbf is 120 s after this server's clock; the clock tolerance is 30 s (the `clockToleranceSeconds` option)",
    );
    const future = await accessToken(key, now(), { iat: now() + 95 });
    expect((await refused(server, future)).detail).toBe(
      "iat is 95 s after this server's clock; the clock tolerance is 30 s (the `clockToleranceSeconds` option)",
    );
  });

  it('names the typ seen and the ones accepted', async () => {
    const { server, key, now } = await setup();
    const token = await accessToken(key, now(), {}, { typ: 'JWT' });
    expect((await refused(server, token)).detail).toBe(
      'typ "JWT"; expected at+jwt (the `typ` option)',
    );
  });

  it('names the kid and whether the key set has it', async () => {
    const { server, key, now } = await setup({ jwksCooldownSeconds: 0 });
    const unknown = await accessToken(key, now(), {}, { kid: 'rotated-away' });
    expect((await refused(server, unknown)).detail).toBe(
      'kid "rotated-away" is not in the key set (its kids: "es256-1")',
    );
    const other = await makeKey('ES256');
    const forged = await accessToken(other, now(), {}, { kid: key.kid });
    expect((await refused(server, forged)).detail).toBe(
      'kid "es256-1" is in the key set; the signature does not verify with its key (ES256)',
    );
  });

  it('names a claim that is missing, and one of the wrong type', async () => {
    const { server, key, now } = await setup();
    const error = await refused(server, await accessToken(key, now(), { jti: undefined }));
    expect(error).toMatchObject({ reason: 'claims', claim: 'jti' });
    expect(error.detail).toBe(
      'no jti claim; required: iss, exp, aud, sub, client_id, iat, jti (RFC 9068 §2.2, for a token typed at+jwt; the `requiredClaims` option replaces the list)',
    );
    const typed = await refused(server, await accessToken(key, now(), { sub: 42 }));
    expect(typed).toMatchObject({ reason: 'claims', claim: 'sub' });
    expect(typed.detail).toBe('sub is 42; expected a string (RFC 7519 §4.1)');
  });

  it('quotes a long value cut short', async () => {
    const { server, key, now } = await setup();
    const token = await accessToken(key, now(), { aud: `https://${'a'.repeat(300)}.example` });
    const error = await rejection(server.verifyToken(token));
    expect(error.reason).toBe('audience');
    expect(error.detail).toMatch(/^aud is "https:\/\/a{119}…"; expected /);
  });

  it('never shows a token smuggled into a claim, however short', async () => {
    const { server, key, now } = await setup();
    const small = await signJws({ alg: 'ES256' }, {}, key.privateKey, 'ES256');
    expect(small.length).toBeLessThan(128);
    for (const aud of [small, [`see ${small}`], await accessToken(key, now())]) {
      const token = await accessToken(key, now(), { aud });
      const error = await rejection(server.verifyToken(token));
      expect(error.reason).toBe('audience');
      expect(error.detail).toContain('<JWT>');
      for (const part of [small, token].flatMap((jwt) => jwt.split('.'))) {
        if (part.length > 4) expect(error.message).not.toContain(part);
      }
    }
  });
});
