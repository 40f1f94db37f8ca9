import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NetworkError, OAuthError, ProtocolError, TokenError } from '../../../src/index.js';
import {
  claimsOf,
  accessToken,
  AUDIENCE,
  fakeIdp,
  ISSUER,
  makeKey,
  setup,
  START,
} from './helpers.js';
import {
  createResourceServer,
  MAX_KEY_SET_SIZE,
  type ResourceServerEvent,
} from '../../../src/server.js';
import { manualClock } from '../../support/clock.js';

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TokenError);
  return error as TokenError;
}

describe('the key set cache', () => {
  it('fetches the key set on first use and not again while it is fresh', async () => {
    const { server, idp, key, now, clock } = await setup();
    await server.verifyToken(await accessToken(key, now()));
    clock.advance(479);
    await server.verifyToken(await accessToken(key, now()));
    expect(idp.jwksRequests()).toBe(1);
  });

  it('refreshes a key set nearing its maximum age in the background, without making the caller wait', async () => {
    const { server, idp, key, now, clock } = await setup();
    await server.verifyToken(await accessToken(key, now()));
    clock.advance(480);
    const { release } = idp.hold();
    // The refresh hangs, yet the verification completes on the current key set.
    await expect(server.verifyToken(await accessToken(key, now()))).resolves.toMatchObject({
      iss: ISSUER,
    });
    expect(idp.jwksRequests()).toBe(2);
    release();
    await server.verifyToken(await accessToken(key, now()));
    expect(idp.jwksRequests()).toBe(2);
  });

  it('discovers jwks_uri once when no jwksUri is given', async () => {
    const key = await makeKey('ES256');
    const idp = fakeIdp([key.jwk]);
    const clock = manualClock(START);
    const server = createResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      fetch: idp.fetch,
      now: clock.now,
    });
    for (let i = 0; i < 3; i++) await server.verifyToken(await accessToken(key, clock.seconds()));
    expect(idp.urls).toEqual([
      `${ISSUER}/.well-known/oauth-authorization-server`,
      `${ISSUER}/jwks`,
    ]);
  });

  it('fetches the key set again once it is older than the maximum age', async () => {
    const { server, idp, key, now, clock } = await setup({ jwksCacheMaxAgeSeconds: 120 });
    await server.verifyToken(await accessToken(key, now()));
    clock.advance(120);
    await server.verifyToken(await accessToken(key, now()));
    expect(idp.jwksRequests()).toBe(2);
  });

  it('refetches once for an unknown kid and verifies with the new key', async () => {
    const { server, idp, key, now, clock } = await setup();
    await server.verifyToken(await accessToken(key, now()));
    const rotated = await makeKey('ES256', 'rotated');
    idp.setKeys([key.jwk, rotated.jwk]);
    clock.advance(30);
    await expect(server.verifyToken(await accessToken(rotated, now()))).resolves.toMatchObject({
      iss: ISSUER,
    });
    expect(idp.jwksRequests()).toBe(2);
  });

  it('refetches for a burst of forged kids at most once per cooldown window', async () => {
    const { server, idp, key, now, clock } = await setup({ jwksCooldownSeconds: 30 });
    await server.verifyToken(await accessToken(key, now()));
    clock.advance(30);
    const forged = await Promise.all(
      Array.from({ length: 50 }, (_, i) => accessToken(key, now(), {}, { kid: `forged-${i}` })),
    );
    const errors = await Promise.all(forged.map((token) => rejection(server.verifyToken(token))));
    expect(errors.every((error) => error.reason === 'key')).toBe(true);
    expect(idp.jwksRequests()).toBe(2);

    clock.advance(29);
    await rejection(server.verifyToken(forged[0]!));
    expect(idp.jwksRequests()).toBe(2);
    clock.advance(1);
    await rejection(server.verifyToken(forged[1]!));
    expect(idp.jwksRequests()).toBe(3);
  });

  it('does not refetch for an unknown kid right after the first fetch', async () => {
    const { server, idp, key, now } = await setup();
    const error = await rejection(
      server.verifyToken(await accessToken(key, now(), {}, { kid: 'unknown' })),
    );
    expect(error.reason).toBe('key');
    expect(idp.jwksRequests()).toBe(1);
  });

  it('shares one request between concurrent first verifications', async () => {
    const { server, idp, key, now } = await setup();
    const gate = idp.hold();
    const token = await accessToken(key, now());
    const pending = Array.from({ length: 20 }, () => server.verifyToken(token));
    gate.release();
    await Promise.all(pending);
    expect(idp.jwksRequests()).toBe(1);
  });

  it('shares one refetch between concurrent verifications with unknown kids', async () => {
    const { server, idp, key, now, clock } = await setup();
    await server.verifyToken(await accessToken(key, now()));
    const rotated = await makeKey('ES256', 'rotated');
    idp.setKeys([rotated.jwk]);
    clock.advance(60);
    const gate = idp.hold();
    const token = await accessToken(rotated, now());
    const pending = Array.from({ length: 20 }, () => server.verifyToken(token));
    gate.release();
    await Promise.all(pending);
    expect(idp.jwksRequests()).toBe(2);
  });

  it('keeps verifying with the last good keys while the endpoint is down, up to the stale bound', async () => {
    const { server, idp, key, now, clock } = await setup({
      jwksCacheMaxAgeSeconds: 600,
      jwksCooldownSeconds: 30,
      jwksMaxStaleSeconds: 3600,
    });
    await server.verifyToken(await accessToken(key, now()));
    idp.failWith('down');

    clock.advance(600);
    const signed = await accessToken(key, now());
    await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    expect(idp.jwksRequests()).toBe(2);
    // Within the cooldown a failed refresh is not retried.
    clock.advance(10);
    await server.verifyToken(await accessToken(key, now()));
    expect(idp.jwksRequests()).toBe(2);

    clock.setSeconds(START.getTime() / 1000 + 3599);
    const stale = await accessToken(key, now());
    await expect(server.verifyToken(stale)).resolves.toEqual(claimsOf(stale));

    clock.advance(1);
    const error = await rejection(server.verifyToken(await accessToken(key, now())));
    // The refresh at 3599 s failed: the next one may start 30 s after it.
    expect(error).toMatchObject({ reason: 'jwks', status: 503, retryAfter: 29 });
    expect(error.cause).toBeInstanceOf(NetworkError);
  });

  it('answers 503, not 401, while it has no key set, with Retry-After counting down to the next fetch', async () => {
    const { server, idp, key, now, clock } = await setup({ jwksCooldownSeconds: 30 });
    idp.failWith('down');
    const token = await accessToken(key, now());
    const first = await rejection(server.verifyToken(token));
    expect(first).toMatchObject({
      reason: 'jwks',
      status: 503,
      retryAfter: 30,
      error: 'temporarily_unavailable',
      errorDescription: 'the signing keys of the issuer are unavailable',
      // No error code in the challenge: `invalid_token` would send the client for a new token.
      wwwAuthenticate: expect.not.stringContaining('error=') as unknown,
    });
    expect(first.message).toBe(
      'access token not checked (jwks): the signing keys of the issuer are unavailable',
    );
    clock.advance(12.5);
    expect((await rejection(server.verifyToken(token))).retryAfter).toBe(18);
    clock.advance(17.6);
    // The window has passed: this call tries again, fails again, and a new window starts.
    expect((await rejection(server.verifyToken(token))).retryAfter).toBe(30);
    expect(idp.jwksRequests()).toBe(2);
  });

  it('says at least one second when the cooldown is zero', async () => {
    const { server, idp, key, now } = await setup({ jwksCooldownSeconds: 0 });
    idp.failWith(502);
    const error = await rejection(server.verifyToken(await accessToken(key, now())));
    expect(error).toMatchObject({ reason: 'jwks', status: 503, retryAfter: 1 });
  });

  it('picks up again when the endpoint comes back', async () => {
    const { server, idp, key, now, clock } = await setup({ jwksMaxStaleSeconds: 600 });
    await server.verifyToken(await accessToken(key, now()));
    idp.failWith(503);
    clock.advance(700);
    expect((await rejection(server.verifyToken(await accessToken(key, now())))).reason).toBe(
      'jwks',
    );
    idp.failWith(undefined);
    clock.advance(30);
    const signed = await accessToken(key, now());
    await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
  });

  it('tries a key set it never had at most once per cooldown window', async () => {
    const { server, idp, key, now, clock } = await setup();
    idp.failWith('down');
    const token = await accessToken(key, now());
    for (let i = 0; i < 10; i++) {
      const error = await rejection(server.verifyToken(token));
      expect(error.reason).toBe('jwks');
    }
    expect(idp.jwksRequests()).toBe(1);
    clock.advance(30);
    idp.failWith(undefined);
    const signed = await accessToken(key, now());
    await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    expect(idp.jwksRequests()).toBe(2);
  });

  it('reports an HTTP error from the JWKS endpoint as reason jwks with the OAuthError as cause', async () => {
    const { server, idp, key, now } = await setup();
    idp.failWith(500);
    const error = await rejection(server.verifyToken(await accessToken(key, now())));
    expect(error.reason).toBe('jwks');
    expect(error.cause).toBeInstanceOf(OAuthError);
  });

  it('reports a body that is not a key set as reason jwks with the ProtocolError as cause', async () => {
    const { server, idp, key, now } = await setup();
    idp.setKeys('not keys' as never);
    const error = await rejection(server.verifyToken(await accessToken(key, now())));
    expect(error.reason).toBe('jwks');
    expect(error.cause).toBeInstanceOf(ProtocolError);
  });
});

describe('key selection', () => {
  it('uses only signing keys: use "enc", key_ops without verify, and symmetric keys are skipped', async () => {
    const key = await makeKey('ES256', 'k');
    const other = await makeKey('ES256', 'other');
    for (const published of [
      { ...key.jwk, use: 'enc' },
      { ...key.jwk, key_ops: ['encrypt'] },
      { kty: 'oct', k: 'c2VjcmV0', kid: 'k' },
    ]) {
      const { server, now } = await setup({}, { key, published: [published, other.jwk] });
      const error = await rejection(server.verifyToken(await accessToken(key, now())));
      expect(error.reason).toBe('key');
    }
  });

  it('never imports a published key that has private members', async () => {
    const key = await makeKey('ES256', 'k');
    const other = await makeKey('ES256', 'other');
    const { server, now } = await setup(
      {},
      { key, published: [{ ...key.privateJwk, kid: 'k', use: 'sig' }, other.jwk] },
    );
    expect((await rejection(server.verifyToken(await accessToken(key, now())))).reason).toBe('key');
  });

  it('does not use a key whose alg differs from the token alg', async () => {
    const pss = await makeKey('PS256', 'k');
    const { server, now } = await setup(
      {},
      { key: pss, published: [{ ...pss.jwk, alg: 'RS256' }] },
    );
    const token = await accessToken(pss, now());
    expect((await rejection(server.verifyToken(token))).reason).toBe('key');
  });

  it('does not use a key of the wrong type or curve for the alg', async () => {
    const p256 = await makeKey('ES256', 'k');
    const { server, now } = await setup(
      {},
      { key: p256, published: [{ ...p256.jwk, alg: undefined }] },
    );
    const token = await accessToken({ ...p256, alg: 'ES384' }, now());
    expect((await rejection(server.verifyToken(token))).reason).toBe('key');
  });

  it('uses the one fitting key when the token has no kid', async () => {
    const key = await makeKey('EdDSA');
    const other = await makeKey('RS256');
    const { server, now } = await setup({}, { key, published: [other.jwk, key.jwk] });
    const signed = await accessToken(key, now(), {}, { kid: undefined });
    await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
  });

  it('tries each fitting key when the token has no kid', async () => {
    const first = await makeKey('ES256', 'a');
    const second = await makeKey('ES256', 'b');
    const { server, now } = await setup({}, { key: second, published: [first.jwk, second.jwk] });
    const signed = await accessToken(second, now(), {}, { kid: undefined });
    await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
  });

  it('verifies RS256, PS256, ES256, ES384, ES512 and EdDSA tokens', async () => {
    for (const alg of ['RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const) {
      const key = await makeKey(alg);
      const { server, now } = await setup({}, { key });
      await expect(server.verifyToken(await accessToken(key, now())), alg).resolves.toMatchObject({
        iss: ISSUER,
      });
    }
  });

  it('accepts Ed25519 as the alg of a token whose key says EdDSA', async () => {
    const key = await makeKey('EdDSA');
    const { server, now } = await setup({}, { key });
    const token = await accessToken(key, now(), {}, { alg: 'Ed25519' });
    await expect(server.verifyToken(token)).resolves.toEqual(claimsOf(token));
  });
});

describe('key set members the cache cannot use (RFC 7517 §5)', () => {
  /** One member for each way a member can be unusable, and the reason it is counted under. */
  async function unusableMembers(): Promise<{
    members: unknown[];
    skipped: Record<string, number>;
    secrets: string[];
  }> {
    const ec = await makeKey('ES256', 'ec');
    const rsa = await makeKey('RS256', 'rsa');
    const { d, ...publicEc } = ec.privateJwk;
    const members: unknown[] = [
      null,
      'a string',
      { ...publicEc, kty: undefined },
      { ...ec.jwk, kty: 'FOO' },
      { kty: 'oct', k: 'c2VjcmV0LWhtYWMta2V5', kid: 'hmac' },
      { kty: 'AKP', alg: 'ML-DSA-44', pub: 'AAAA', kid: 'pq' },
      { ...ec.jwk, crv: 'P-192', kid: 'p192' },
      { kty: 'OKP', crv: 'X25519', x: 'AAAA', kid: 'x25519' },
      { ...rsa.jwk, alg: 'RSA-OAEP', use: undefined, kid: 'oaep' },
      { ...ec.jwk, alg: 'RS256', kid: 'mismatch' },
      { ...ec.jwk, use: 'enc', kid: 'enc' },
      { ...ec.jwk, key_ops: ['deriveKey'], kid: 'ops' },
      { ...ec.jwk, kid: 42 },
      { ...ec.privateJwk, kid: 'private', d },
      { ...rsa.jwk, n: undefined, kid: 'no-modulus' },
      { ...ec.jwk, y: 7, kid: 'bad-y' },
    ];
    return {
      members,
      skipped: {
        not_object: 2,
        kty: 4,
        crv: 2,
        alg: 2,
        use: 1,
        key_ops: 1,
        kid: 1,
        private: 1,
        members: 2,
      },
      secrets: [d!, 'c2VjcmV0LWhtYWMta2V5'],
    };
  }

  it('skips every unusable member and verifies with the usable key beside them', async () => {
    const key = await makeKey('ES256', 'good');
    const { members, skipped, secrets } = await unusableMembers();
    const events: ResourceServerEvent[] = [];
    const { server, now } = await setup(
      { onEvent: (event) => events.push(event) },
      { key, published: [...members, key.jwk] as never },
    );
    await expect(server.verifyToken(await accessToken(key, now()))).resolves.toMatchObject({
      iss: ISSUER,
    });
    expect(events).toEqual([
      {
        type: 'jwks_fetched',
        reason: 'initial',
        ok: true,
        keys: 1,
        published: members.length + 1,
        skipped,
      },
    ]);
    for (const secret of secrets) expect(JSON.stringify(events)).not.toContain(secret);
  });

  it('refuses a set with no usable key as reason jwks, a ProtocolError counting what was skipped', async () => {
    const key = await makeKey('ES256', 'good');
    const { members, skipped, secrets } = await unusableMembers();
    const events: ResourceServerEvent[] = [];
    const { server, now } = await setup(
      { onEvent: (event) => events.push(event) },
      { key, published: members as never },
    );
    const error = await rejection(server.verifyToken(await accessToken(key, now())));
    expect(error).toMatchObject({ reason: 'jwks', status: 503 });
    expect(error.cause).toBeInstanceOf(ProtocolError);
    const cause = error.cause as ProtocolError;
    expect(cause.message).toBe(
      "the authorization server's key set has no usable key among 16 members (skipped: not_object 2, kty 4, crv 2, alg 2, use 1, key_ops 1, kid 1, private 1, members 2)",
    );
    expect(cause.cause).toEqual([
      { path: 'keys', code: 'no_usable_key', message: expect.any(String) as unknown, skipped },
    ]);
    expect(events[0]).toMatchObject({ type: 'jwks_fetched', ok: false, published: members.length });
    for (const secret of secrets) {
      expect(inspect(error, { depth: 8 })).not.toContain(secret);
      expect(inspect(events, { depth: 8 })).not.toContain(secret);
    }
  });

  it('refuses an empty key set as reason jwks', async () => {
    const { server, key, now } = await setup({}, { published: [] });
    const error = await rejection(server.verifyToken(await accessToken(key, now())));
    expect(error).toMatchObject({ reason: 'jwks', status: 503 });
    expect((error.cause as ProtocolError).message).toBe(
      "the authorization server's key set has no usable key among 0 members",
    );
  });
});

describe(`the bound of ${MAX_KEY_SET_SIZE} members on a key set`, () => {
  async function fillers(count: number) {
    const filler = await makeKey('ES256', 'filler');
    return Array.from({ length: count }, (_, index) => ({ ...filler.jwk, kid: `filler-${index}` }));
  }

  it('reads a set of exactly 100 members, the last one included', async () => {
    const key = await makeKey('ES256', 'last');
    const { server, now } = await setup({}, { key, published: [...(await fillers(99)), key.jwk] });
    const signed = await accessToken(key, now());
    await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
  });

  it('refuses a set of 101 members as a whole, naming the bound and the count, instead of dropping the last', async () => {
    const key = await makeKey('ES256', 'last');
    const events: ResourceServerEvent[] = [];
    const { server, now } = await setup(
      { onEvent: (event) => events.push(event) },
      { key, published: [...(await fillers(100)), key.jwk] },
    );
    const error = await rejection(server.verifyToken(await accessToken(key, now())));
    expect(error).toMatchObject({ reason: 'jwks', status: 503 });
    const cause = error.cause as ProtocolError;
    expect(cause).toBeInstanceOf(ProtocolError);
    expect(cause.message).toBe(
      "the authorization server's key set has 101 members, more than the 100 read",
    );
    expect(cause.cause).toEqual([
      { path: 'keys', code: 'too_big', message: '101 members, more than the 100 read' },
    ]);
    expect(events[0]).toEqual({
      type: 'jwks_fetched',
      reason: 'initial',
      ok: false,
      published: 101,
      error: cause,
    });
  });

  it('keeps using the last good set while the published one is over the bound', async () => {
    const key = await makeKey('ES256', 'k');
    const { server, idp, now, clock } = await setup({}, { key });
    await server.verifyToken(await accessToken(key, now()));
    idp.setKeys([...(await fillers(150)), key.jwk]);
    clock.advance(600);
    const signed = await accessToken(key, now());
    await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    expect(idp.jwksRequests()).toBe(2);
  });
});
