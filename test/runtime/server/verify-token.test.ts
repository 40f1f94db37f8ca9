import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TokenError } from '../../../src/index.js';
import { claimsOf, AUDIENCE, ISSUER, accessToken, makeKey, setup } from './helpers.js';

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TokenError);
  return error as TokenError;
}

describe('verifyToken', () => {
  it('returns the claims of a valid token, custom claims included', async () => {
    const { server, key, now } = await setup();
    const token = await accessToken(key, now(), { tenant: 'eu-1', cnf: { jkt: 'abc' } });
    const claims = await server.verifyToken(token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'orders-worker',
      client_id: 'orders-worker',
      scope: 'orders:read orders:write',
      tenant: 'eu-1',
      cnf: { jkt: 'abc' },
    });
  });

  it('answers a token that is empty or not a string without an error code', async () => {
    const { server } = await setup({ realm: 'orders' });
    const error = await rejection(server.verifyToken(''));
    expect(error.reason).toBe('missing');
    expect(error.wwwAuthenticate).toBe('Bearer realm="orders"');
    expect((await rejection(server.verifyToken(42 as unknown as string))).reason).toBe('malformed');
    expect((await rejection(server.verifyToken(undefined as unknown as string))).reason).toBe(
      'missing',
    );
  });

  describe('issuer', () => {
    it('refuses a token from another issuer, even one that differs by a trailing slash', async () => {
      const { server, key, now, idp } = await setup();
      for (const iss of [`${ISSUER}/`, 'https://evil.example.test', ISSUER.toUpperCase()]) {
        const error = await rejection(server.verifyToken(await accessToken(key, now(), { iss })));
        expect(error.reason).toBe('issuer');
      }
      // The issuer is checked before any key is looked up.
      expect(idp.jwksRequests()).toBe(0);
    });

    it('refuses a token without iss', async () => {
      const { server, key, now } = await setup();
      expect(
        (await rejection(server.verifyToken(await accessToken(key, now(), { iss: undefined }))))
          .reason,
      ).toBe('issuer');
    });
  });

  describe('audience', () => {
    it('accepts a token whose aud array names the audience', async () => {
      const { server, key, now } = await setup();
      const signed = await accessToken(key, now(), { aud: ['other', AUDIENCE] });
      await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    });

    it('accepts any of several configured audiences', async () => {
      const { server, key, now } = await setup({ audience: ['https://a.example.test', AUDIENCE] });
      const signed = await accessToken(key, now());
      await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    });

    it('refuses a token for another audience, or with an empty one', async () => {
      const { server, key, now } = await setup();
      for (const aud of ['https://other.example.test', []]) {
        const error = await rejection(server.verifyToken(await accessToken(key, now(), { aud })));
        expect(error.reason).toBe('audience');
        expect(error.wwwAuthenticate).toContain('error="invalid_token"');
      }
    });

    it('refuses a token without aud, even when no aud claim is required', async () => {
      const { server, key, now } = await setup({ requiredClaims: ['sub'] });
      const error = await rejection(
        server.verifyToken(await accessToken(key, now(), { aud: undefined })),
      );
      expect(error.reason).toBe('audience');
    });

    it('lets a call name its own audience, replacing the default', async () => {
      const { server, key, now } = await setup();
      const token = await accessToken(key, now(), { aud: 'https://billing.example.test' });
      await expect(
        server.verifyToken(token, { audience: 'https://billing.example.test' }),
      ).resolves.toEqual(claimsOf(token));
      expect(
        (await rejection(server.verifyToken(await accessToken(key, now()), { audience: 'x' })))
          .reason,
      ).toBe('audience');
    });

    it('does not check aud with audience: null, the explicit opt-out', async () => {
      const { server, key, now } = await setup({ audience: null });
      const signed = await accessToken(key, now(), { aud: 'anything' });
      await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    });
  });

  describe('required claims (RFC 9068 §2.2)', () => {
    it.each(['aud', 'sub', 'client_id', 'iat', 'jti'])(
      'refuses an at+jwt token without %s, naming it in the error and not in the challenge',
      async (claim) => {
        const { server, key, now } = await setup({ audience: null });
        const error = await rejection(
          server.verifyToken(await accessToken(key, now(), { [claim]: undefined })),
        );
        expect(error).toMatchObject({
          reason: 'claims',
          status: 401,
          claim,
          error: 'invalid_token',
          errorDescription: 'the token lacks a required claim',
          wwwAuthenticate:
            'Bearer error="invalid_token", error_description="the token lacks a required claim"',
          message: `access token rejected (claims): the token lacks a required claim: no ${claim} claim; required: iss, exp, aud, sub, client_id, iat, jti (RFC 9068 §2.2, for a token typed at+jwt; the \`requiredClaims\` option replaces the list)`,
        });
      },
    );

    it('counts a claim that is null as missing, and an inherited name as not present', async () => {
      const { server, key, now } = await setup({ requiredClaims: ['sub', 'constructor'] });
      expect(
        await rejection(server.verifyToken(await accessToken(key, now(), { sub: null }))),
      ).toMatchObject({ reason: 'claims', claim: 'sub' });
      expect(await rejection(server.verifyToken(await accessToken(key, now())))).toMatchObject({
        reason: 'claims',
        claim: 'constructor',
      });
    });

    it('takes a shorter list for issuers that leave claims out: no sub', async () => {
      const { server, key, now } = await setup({
        requiredClaims: ['iss', 'exp', 'aud', 'client_id', 'iat', 'jti'],
      });
      await expect(
        server.verifyToken(await accessToken(key, now(), { sub: undefined })),
      ).resolves.toMatchObject({ client_id: 'orders-worker' });
    });

    it('adds claims of its own to the list', async () => {
      const { server, key, now } = await setup({ requiredClaims: ['tenant'] });
      expect(await rejection(server.verifyToken(await accessToken(key, now())))).toMatchObject({
        reason: 'claims',
        claim: 'tenant',
      });
      const signed = await accessToken(key, now(), { tenant: 'eu-1' });
      await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    });

    it('always requires iss and exp, even with an empty list', async () => {
      const { server, key, now } = await setup({ requiredClaims: [] });
      const signed = await accessToken(key, now(), {
        sub: undefined,
        jti: undefined,
        iat: undefined,
      });
      await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
      expect(
        await rejection(server.verifyToken(await accessToken(key, now(), { exp: undefined }))),
      ).toMatchObject({ reason: 'claims', claim: 'exp' });
      expect(
        (await rejection(server.verifyToken(await accessToken(key, now(), { iss: undefined }))))
          .reason,
      ).toBe('issuer');
    });

    it('requires only iss and exp of a token checked without typ', async () => {
      const { server, key, now } = await setup({ typ: false });
      const token = await accessToken(
        key,
        now(),
        { sub: undefined, client_id: undefined, iat: undefined, jti: undefined },
        { typ: 'JWT' },
      );
      await expect(server.verifyToken(token)).resolves.toEqual(claimsOf(token));
    });

    it('names a foreign token issuer before any missing claim', async () => {
      const { server, key, now } = await setup();
      const token = await accessToken(key, now(), {
        iss: 'https://evil.example.test',
        sub: undefined,
      });
      expect((await rejection(server.verifyToken(token))).reason).toBe('issuer');
    });
  });

  describe('time', () => {
    it('accepts a token until exp plus the tolerance, then calls it expired', async () => {
      const { server, key, now, clock } = await setup({ clockToleranceSeconds: 30 });
      const token = await accessToken(key, now(), { exp: now() + 60 });
      clock.advance(89);
      await expect(server.verifyToken(token)).resolves.toEqual(claimsOf(token));
      clock.advance(1);
      const error = await rejection(server.verifyToken(token));
      expect(error.reason).toBe('expired');
      expect(error.status).toBe(401);
      expect(error.wwwAuthenticate).toBe(
        'Bearer error="invalid_token", error_description="the token has expired"',
      );
    });

    it('with no tolerance, refuses a token at its exp', async () => {
      const { server, key, now } = await setup({ clockToleranceSeconds: 0 });
      expect(
        (await rejection(server.verifyToken(await accessToken(key, now(), { exp: now() })))).reason,
      ).toBe('expired');
    });

    it('refuses a token whose nbf is later than now plus the tolerance', async () => {
      const { server, key, now } = await setup();
      const signed = await accessToken(key, now(), { nbf: now() + 30 });
      await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
      expect(
        (await rejection(server.verifyToken(await accessToken(key, now(), { nbf: now() + 31 }))))
          .reason,
      ).toBe('not_yet_valid');
    });

    it('refuses a token issued in the future beyond the tolerance', async () => {
      const { server, key, now } = await setup();
      const signed = await accessToken(key, now(), { iat: now() + 30 });
      await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
      expect(
        (await rejection(server.verifyToken(await accessToken(key, now(), { iat: now() + 31 }))))
          .reason,
      ).toBe('not_yet_valid');
    });

    it('checks time before looking up keys, so expired tokens cause no fetch', async () => {
      const { server, key, now, idp } = await setup();
      await rejection(server.verifyToken(await accessToken(key, now(), { exp: now() - 3600 })));
      expect(idp.jwksRequests()).toBe(0);
    });
  });

  describe('typ', () => {
    it('accepts at+jwt however it is spelled', async () => {
      const { server, key, now } = await setup();
      for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/At+Jwt']) {
        const signed = await accessToken(key, now(), {}, { typ });
        await expect(server.verifyToken(signed), typ).resolves.toEqual(claimsOf(signed));
      }
    });

    it('refuses another typ, or none', async () => {
      const { server, key, now } = await setup();
      for (const typ of ['JWT', 'dpop+jwt', 'at+jwt ', 'application/jwt', undefined, 1]) {
        const error = await rejection(
          server.verifyToken(await accessToken(key, now(), {}, { typ })),
        );
        expect(error.reason, String(typ)).toBe('type');
      }
    });

    it('skips the check with typ: false', async () => {
      const { server, key, now } = await setup({ typ: false });
      for (const typ of ['JWT', undefined, 'at+jwt']) {
        const signed = await accessToken(key, now(), {}, { typ });
        await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
      }
    });

    it('checks a configured typ instead', async () => {
      const { server, key, now } = await setup({ typ: 'application/okta-internal-at+jwt' });
      const signed = await accessToken(key, now(), {}, { typ: 'okta-internal-at+jwt' });
      await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
      expect((await rejection(server.verifyToken(await accessToken(key, now())))).reason).toBe(
        'type',
      );
    });
  });

  describe('scopes', () => {
    it('accepts a token that grants every required scope', async () => {
      const { server, key, now } = await setup({ requiredScopes: ['orders:read', 'orders:write'] });
      const signed = await accessToken(key, now());
      await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    });

    it('answers a missing scope with 403 insufficient_scope naming the scopes needed', async () => {
      const { server, key, now } = await setup({ requiredScopes: 'orders:read orders:admin' });
      const error = await rejection(server.verifyToken(await accessToken(key, now())));
      expect(error.reason).toBe('scope');
      expect(error.status).toBe(403);
      expect(error.wwwAuthenticate).toBe(
        'Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="orders:read orders:admin"',
      );
    });

    it('lets a call replace the required scopes', async () => {
      const { server, key, now } = await setup({ requiredScopes: ['orders:admin'] });
      const token = await accessToken(key, now());
      await expect(server.verifyToken(token, { requiredScopes: ['orders:read'] })).resolves.toEqual(
        claimsOf(token),
      );
      expect((await rejection(server.verifyToken(token))).status).toBe(403);
      expect(
        (await rejection(server.verifyToken(token, { requiredScopes: 'billing:read' }))).status,
      ).toBe(403);
    });

    it('does not match scopes by substring', async () => {
      const { server, key, now } = await setup({ requiredScopes: ['orders'] });
      expect((await rejection(server.verifyToken(await accessToken(key, now())))).reason).toBe(
        'scope',
      );
    });

    it('counts only the scope claim: an scp claim grants nothing', async () => {
      const { server, key, now } = await setup({ requiredScopes: ['orders:read'] });
      for (const scp of [['orders:read'], 'orders:write orders:read']) {
        const token = await accessToken(key, now(), { scope: undefined, scp });
        const error = await rejection(server.verifyToken(token));
        expect(error).toMatchObject({ reason: 'scope', status: 403, error: 'insufficient_scope' });
      }
    });

    it('does not add scp to the scope claim', async () => {
      const { server, key, now } = await setup({ requiredScopes: ['orders:admin'] });
      const token = await accessToken(key, now(), { scope: 'orders:read', scp: ['orders:admin'] });
      expect((await rejection(server.verifyToken(token))).reason).toBe('scope');
    });

    it('answers 401 rather than 403 for a forged token that lacks the scope', async () => {
      const { server, key, now } = await setup({ requiredScopes: ['orders:admin'] });
      const other = await makeKey('ES256', key.kid);
      expect((await rejection(server.verifyToken(await accessToken(other, now())))).status).toBe(
        401,
      );
    });
  });

  describe('algorithms', () => {
    it('accepts only the configured algorithms', async () => {
      const { server, key, now } = await setup({ algorithms: ['RS256'] });
      expect((await rejection(server.verifyToken(await accessToken(key, now())))).reason).toBe(
        'algorithm',
      );
    });
  });

  it('refuses a token longer than maxTokenLength before parsing it', async () => {
    const { server, key, now } = await setup({ maxTokenLength: 600 });
    const token = await accessToken(key, now(), { padding: 'x'.repeat(600) });
    expect((await rejection(server.verifyToken(token))).reason).toBe('malformed');
  });

  it('never puts the token into the message, the header value or the inspected error', async () => {
    const { server, key, now } = await setup({ requiredScopes: 'orders:admin' });
    const tokens = [
      await accessToken(key, now(), { exp: now() - 3600 }),
      await accessToken(key, now(), { iss: 'https://evil.example.test' }),
      await accessToken(key, now()),
      `${(await accessToken(key, now())).slice(0, -4)}AAAA`,
    ];
    for (const token of tokens) {
      const error = await rejection(server.verifyToken(token));
      const [header, payload, signature] = token.split('.') as [string, string, string];
      for (const text of [
        error.message,
        String(error),
        error.wwwAuthenticate,
        inspect(error, { depth: 5 }),
      ]) {
        expect(text).not.toContain(payload);
        expect(text).not.toContain(signature);
        expect(text).not.toContain(header);
      }
    }
  });

  it('refuses invalid per-call options with a TypeError', async () => {
    const { server, key, now } = await setup();
    const token = await accessToken(key, now());
    await expect(server.verifyToken(token, { audience: '' })).rejects.toBeInstanceOf(TypeError);
    await expect(
      server.verifyToken(token, { audience: 5 as unknown as string }),
    ).rejects.toBeInstanceOf(TypeError);
    await expect(server.verifyToken(token, { requiredScopes: ['a b'] })).rejects.toBeInstanceOf(
      TypeError,
    );
  });
});
