/**
 * The verified-token cache: a token string that verified before skips the parse and the
 * signature, and nothing else. Time, audience, scopes, the key set and DPoP proofs are checked
 * on every call, failures are never remembered, and the cache is bounded.
 */
import { describe, expect, it } from 'vitest';
import { TokenError, type TokenErrorReason } from '../../../src/index.js';
import {
  VerifiedTokenCache,
  fingerprintOf,
  type VerifiedToken,
} from '../../../src/runtime/server/verified-tokens.js';
import {
  claimsOf,
  AUDIENCE,
  RESOURCE_URL,
  accessToken,
  dpopProof,
  makeDpopKey,
  makeKey,
  request,
  setup,
} from './helpers.js';

/** A token is cached the second time it verifies: this makes the next call a cache hit. */
async function cache(server: { verifyToken(token: string): Promise<unknown> }, token: string) {
  await server.verifyToken(token);
  await server.verifyToken(token);
}

async function reasonOf(promise: Promise<unknown>): Promise<TokenErrorReason> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error, 'the call succeeded').toBeInstanceOf(TokenError);
  return (error as TokenError).reason;
}

describe('a repeated token', () => {
  it('gets the same claims each time, in a fresh object the caller may change', async () => {
    const { server, key, now } = await setup();
    const token = await accessToken(key, now(), { cnf: { jkt: 'abc' }, aud: [AUDIENCE, 'other'] });
    for (let call = 0; call < 4; call++) {
      const claims = await server.verifyToken(token);
      expect(claims.sub).toBe('orders-worker');
      expect(claims.aud).toEqual([AUDIENCE, 'other']);
      expect(claims.cnf).toEqual({ jkt: 'abc' });
      claims.sub = 'someone else';
      (claims.aud as string[]).push('injected');
      (claims.cnf as { jkt: string }).jkt = 'changed';
    }
  });

  it('is refused once it expires on the injected clock, and stays refused', async () => {
    const { server, key, now, clock } = await setup({ clockToleranceSeconds: 0 });
    const token = await accessToken(key, now(), { exp: now() + 60 });
    await cache(server, token);
    clock.advance(59);
    await expect(server.verifyToken(token)).resolves.toEqual(claimsOf(token));
    clock.advance(1);
    expect(await reasonOf(server.verifyToken(token))).toBe('expired');
    expect(await reasonOf(server.verifyToken(token))).toBe('expired');
  });

  it('is refused with the tolerance counted, as a fresh token would be', async () => {
    const { server, key, now, clock } = await setup({ clockToleranceSeconds: 30 });
    const token = await accessToken(key, now(), { exp: now() + 60 });
    await cache(server, token);
    clock.advance(89);
    await expect(server.verifyToken(token)).resolves.toEqual(claimsOf(token));
    clock.advance(1);
    expect(await reasonOf(server.verifyToken(token))).toBe('expired');
  });

  it('has nbf and iat checked again when the clock goes back', async () => {
    const { server, key, now, clock } = await setup({ clockToleranceSeconds: 0 });
    const start = now();
    const token = await accessToken(key, start, { nbf: start, iat: start });
    await cache(server, token);
    clock.setSeconds(start - 10);
    expect(await reasonOf(server.verifyToken(token))).toBe('not_yet_valid');
    clock.setSeconds(start);
    await expect(server.verifyToken(token)).resolves.toEqual(claimsOf(token));
  });

  it('has each call’s audience and required scopes checked', async () => {
    const { server, key, now } = await setup();
    const token = await accessToken(key, now(), { scope: 'orders:read' });
    await cache(server, token);
    expect(
      await reasonOf(server.verifyToken(token, { audience: 'https://billing.example.test' })),
    ).toBe('audience');
    const error = await server
      .verifyToken(token, { requiredScopes: 'orders:write' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenError);
    expect((error as TokenError).reason).toBe('scope');
    expect((error as TokenError).status).toBe(403);
    await expect(server.verifyToken(token, { requiredScopes: 'orders:read' })).resolves.toEqual(
      claimsOf(token),
    );
    // verifyRequest shares the cache and checks the same.
    expect(
      await reasonOf(
        server.verifyRequest(request({ authorization: `Bearer ${token}` }), {
          audience: 'https://billing.example.test',
        }),
      ),
    ).toBe('audience');
  });

  it('is verified afresh once the key set no longer has its key', async () => {
    const first = await makeKey('ES256', 'k-1');
    const second = await makeKey('ES256', 'k-2');
    const { server, now, clock, idp } = await setup({ jwksCacheMaxAgeSeconds: 60 }, { key: first });
    const token = await accessToken(first, now());
    await cache(server, token);
    idp.setKeys([second.jwk]);
    clock.advance(30);
    // The key set is still fresh: the server does not know yet, cached or not.
    await expect(server.verifyToken(token)).resolves.toEqual(claimsOf(token));
    clock.advance(31);
    expect(await reasonOf(server.verifyToken(token))).toBe('key');
    expect(idp.jwksRequests()).toBe(2);
  });

  it('is verified afresh when its kid now names another key', async () => {
    const original = await makeKey('ES256', 'k-1');
    const replacement = await makeKey('ES256', 'k-1');
    const { server, now, clock, idp } = await setup(
      { jwksCacheMaxAgeSeconds: 60 },
      { key: original },
    );
    const token = await accessToken(original, now());
    await cache(server, token);
    idp.setKeys([replacement.jwk]);
    clock.advance(61);
    expect(await reasonOf(server.verifyToken(token))).toBe('signature');
  });

  it('is refused like any token while the key set is unavailable past its stale bound', async () => {
    const { server, key, now, clock, idp } = await setup({
      jwksCacheMaxAgeSeconds: 60,
      jwksMaxStaleSeconds: 120,
    });
    const token = await accessToken(key, now(), { exp: now() + 3600 });
    await cache(server, token);
    idp.failWith('down');
    clock.advance(121);
    expect(await reasonOf(server.verifyToken(token))).toBe('jwks');
  });
});

describe('failures', () => {
  it('are never remembered: a token refused while its key was unknown passes once the key is published', async () => {
    const published = await makeKey('ES256', 'old');
    const fresh = await makeKey('ES256', 'new');
    const { server, now, clock, idp } = await setup(
      { jwksCooldownSeconds: 10 },
      { key: published },
    );
    await server.verifyToken(await accessToken(published, now()));
    const token = await accessToken(fresh, now());
    expect(await reasonOf(server.verifyToken(token))).toBe('key');
    idp.setKeys([published.jwk, fresh.jwk]);
    clock.advance(11);
    await expect(server.verifyToken(token)).resolves.toEqual(claimsOf(token));
  });

  it('are never remembered: a forged signature stays refused, even after the genuine token passed', async () => {
    const { server, key, now } = await setup();
    const genuine = await accessToken(key, now());
    const [header, payload] = genuine.split('.') as [string, string];
    const other = await accessToken(key, now());
    const forged = `${header}.${payload}.${other.split('.')[2]}`;
    expect(await reasonOf(server.verifyToken(forged))).toBe('signature');
    await cache(server, genuine);
    expect(await reasonOf(server.verifyToken(forged))).toBe('signature');
  });
});

describe('a repeated DPoP-bound token', () => {
  it('still needs a fresh, valid proof for every request', async () => {
    const s = await setup();
    const dpopKey = await makeDpopKey();
    const thief = await makeDpopKey();
    const token = await accessToken(s.key, s.now(), { cnf: { jkt: dpopKey.jkt } });
    await cache(s.server, token);
    const proof = await dpopProof(dpopKey, s.now(), { accessToken: token });
    const send = (dpop?: string, scheme = 'DPoP') =>
      s.server.verifyRequest(
        request({ authorization: `${scheme} ${token}`, ...(dpop === undefined ? {} : { dpop }) }),
      );
    await expect(send(proof)).resolves.toEqual(claimsOf(token));
    expect(await reasonOf(send(proof))).toBe('dpop_replay');
    expect(await reasonOf(send())).toBe('dpop');
    expect(await reasonOf(send(await dpopProof(dpopKey, s.now()), 'Bearer'))).toBe('dpop');
    expect(await reasonOf(send(await dpopProof(thief, s.now(), { accessToken: token })))).toBe(
      'dpop',
    );
    expect(
      await reasonOf(send(await dpopProof(dpopKey, s.now(), { accessToken: `${token}x` }))),
    ).toBe('dpop');
    expect(
      await reasonOf(
        send(
          await dpopProof(dpopKey, s.now(), { accessToken: token, htu: `${RESOURCE_URL}/other` }),
        ),
      ),
    ).toBe('dpop');
    await expect(send(await dpopProof(dpopKey, s.now(), { accessToken: token }))).resolves.toEqual(
      claimsOf(token),
    );
  });

  it('is refused as Bearer whether or not it is cached', async () => {
    const s = await setup();
    const dpopKey = await makeDpopKey();
    const token = await accessToken(s.key, s.now(), { cnf: { jkt: dpopKey.jkt } });
    await cache(s.server, token);
    expect(
      await reasonOf(s.server.verifyRequest(request({ authorization: `Bearer ${token}` }))),
    ).toBe('dpop');
  });
});

describe('the cache itself', () => {
  it('stores a token the second time it verifies, not the first', () => {
    const cache = new VerifiedTokenCache(4);
    const print = fingerprintOf('header.payload.signature-one');
    expect(cache.admit(print)).toBe(false);
    expect(cache.admit(print)).toBe(true);
    expect(cache.admit(fingerprintOf('header.payload.signature-two'))).toBe(false);
    // Fingerprints are bounded too: many new tokens push the first one out.
    for (let i = 0; i < 100; i++) cache.admit(fingerprintOf(`header.payload.other-${i}`));
    expect(cache.admit(fingerprintOf('header.payload.signature-two'))).toBe(false);
  });

  const entry = (token: string) => ({ token }) as VerifiedToken;

  it('keeps at most its bound, forgetting the oldest entry first', () => {
    const cache = new VerifiedTokenCache(2);
    const [a, b, c] = ['a', 'b', 'c'].map((name) => entry(`header.payload.${name}`));
    cache.set(a!);
    cache.set(b!);
    cache.set(a!);
    expect(cache.size).toBe(2);
    cache.set(c!);
    expect(cache.size).toBe(2);
    expect(cache.get('header.payload.a')).toBeUndefined();
    expect(cache.get('header.payload.b')).toBe(b);
    expect(cache.get('header.payload.c')).toBe(c);
  });

  it('serves only the exact token, even to one that ends the same', () => {
    const cache = new VerifiedTokenCache(10);
    const signature = 'S'.repeat(86);
    const cached = entry(`eyJhIjoxfQ.eyJiIjoxfQ.${signature}`);
    cache.set(cached);
    expect(cache.get(`eyJhIjoxfQ.eyJiIjoxfQ.${signature}`)).toBe(cached);
    expect(cache.get(`eyJhIjoxfQ.eyJiIjoyfQ.${signature}`)).toBeUndefined();
    cache.delete(`eyJhIjoxfQ.eyJiIjoyfQ.${signature}`);
    expect(cache.size).toBe(1);
    cache.delete(`eyJhIjoxfQ.eyJiIjoxfQ.${signature}`);
    expect(cache.size).toBe(0);
  });
});

describe('a token that ends like a cached one', () => {
  it('is verified in full, and a forged one refused', async () => {
    const { server, key, now } = await setup();
    const genuine = await accessToken(key, now());
    await cache(server, genuine);
    const [, , signature] = genuine.split('.') as [string, string, string];
    const forged = `${genuine.split('.')[0]}.${Buffer.from(JSON.stringify({ iss: 'https://evil.example.test', exp: now() + 60 })).toString('base64url')}.${signature}`;
    expect(await reasonOf(server.verifyToken(forged))).toBe('issuer');
    const claims = `${genuine.split('.')[0]}.${(await accessToken(key, now(), { sub: 'mallory' })).split('.')[1]}.${signature}`;
    expect(await reasonOf(server.verifyToken(claims))).toBe('signature');
    await expect(server.verifyToken(genuine)).resolves.toMatchObject({ sub: 'orders-worker' });
  });
});
