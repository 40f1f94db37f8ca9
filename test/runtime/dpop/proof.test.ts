import {
  calculateJwkThumbprint,
  EmbeddedJWK,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  decodeProtectedHeader,
} from 'jose';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAuthClient } from '../../../src/client.js';
import { fakeFetch, json, manualClock } from '../fake-fetch.js';

const tokenEndpoint = 'https://idp.example.test/token';

function dpopClient(
  dpop: Parameters<typeof createAuthClient>[0]['dpop'],
  fetch = fakeFetch(() => json({})),
) {
  const clock = manualClock();
  return {
    clock,
    fetch,
    auth: createAuthClient({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      dpop,
      fetch,
      now: clock.now,
    }),
  };
}

describe('buildDpopProof', () => {
  it('signs an RFC 9449 proof with a lazily made Ed25519 key', async () => {
    const { auth, clock } = dpopClient(true);
    const proof = await auth.buildDpopProof({
      htm: 'GET',
      htu: 'https://api.example.test/orders?id=1#top',
    });
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(protectedHeader.jwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String) });
    expect(payload).toMatchObject({
      htm: 'GET',
      htu: 'https://api.example.test/orders',
      iat: Math.floor(clock.now().getTime() / 1000),
    });
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(payload.ath).toBeUndefined();
    expect(payload.nonce).toBeUndefined();
  });

  it('adds ath = base64url(SHA-256(token)) and the nonce when given', async () => {
    const { auth } = dpopClient(true);
    const proof = await auth.buildDpopProof({
      htm: 'POST',
      htu: 'https://api.example.test/x',
      accessToken: 'abc.def.ghi',
      nonce: 'n-1',
    });
    const { payload } = await jwtVerify(proof, EmbeddedJWK);
    expect(payload.ath).toBe(createHash('sha256').update('abc.def.ghi').digest('base64url'));
    expect(payload.nonce).toBe('n-1');
  });

  it('uses one key per client and a fresh jti per proof', async () => {
    const { auth } = dpopClient(true);
    const [a, b] = await Promise.all([
      auth.buildDpopProof({ htm: 'GET', htu: 'https://a.example/' }),
      auth.buildDpopProof({ htm: 'GET', htu: 'https://a.example/' }),
    ]);
    expect(decodeProtectedHeader(a).jwk).toEqual(decodeProtectedHeader(b).jwk);
    const [pa, pb] = await Promise.all([jwtVerify(a, EmbeddedJWK), jwtVerify(b, EmbeddedJWK)]);
    expect(pa.payload.jti).not.toBe(pb.payload.jti);
  });

  it('signs with a supplied ES256 key pair and never puts private members in the header', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const { auth } = dpopClient({
      privateKey: await exportJWK(pair.privateKey),
      publicKey: await exportJWK(pair.publicKey),
    });
    const proof = await auth.buildDpopProof({ htm: 'GET', htu: 'https://a.example/' });
    const header = decodeProtectedHeader(proof);
    expect(header.alg).toBe('ES256');
    expect(header.jwk).not.toHaveProperty('d');
    expect(await calculateJwkThumbprint(header.jwk!)).toBe(
      await calculateJwkThumbprint(await exportJWK(pair.publicKey)),
    );
    await expect(jwtVerify(proof, EmbeddedJWK)).resolves.toBeTruthy();
  });

  it('signs with the algorithm `alg` names: an RSA key pair used for PS256', async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const privateKey = await exportJWK(pair.privateKey);
    const { auth } = dpopClient({
      privateKey,
      publicKey: await exportJWK(pair.publicKey),
      alg: 'PS256',
    });
    const proof = await auth.buildDpopProof({ htm: 'GET', htu: 'https://a.example/' });
    expect(decodeProtectedHeader(proof).alg).toBe('PS256');
    await expect(jwtVerify(proof, EmbeddedJWK, { algorithms: ['PS256'] })).resolves.toBeTruthy();
  });

  it('refuses an `alg` the key cannot sign with, without naming the key', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const privateKey = await exportJWK(pair.privateKey);
    for (const key of [privateKey, pair.privateKey]) {
      const { auth } = dpopClient({
        privateKey: key,
        publicKey: await exportJWK(pair.publicKey),
        alg: 'ES384',
      });
      const error = await auth
        .buildDpopProof({ htm: 'GET', htu: 'https://a.example/' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/dpop\.privateKey.*ES384/);
      expect((error as Error).message).not.toContain(privateKey.d!);
    }
  });

  it('refuses an `alg` that is not an asymmetric JWS algorithm when the client is made', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const dpop = { privateKey: pair.privateKey, publicKey: pair.publicKey, alg: 'HS256' as never };
    expect(() => dpopClient(dpop)).toThrow(/`dpop\.alg`/);
  });

  it("refuses a public key that is not the private key's, before any proof leaves", async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const other = await generateKeyPair('ES256', { extractable: true });
    const ed = await generateKeyPair('EdDSA', { extractable: true });
    for (const publicKey of [
      other.publicKey,
      await exportJWK(other.publicKey),
      await exportJWK(ed.publicKey),
    ]) {
      const { auth, fetch } = dpopClient({ privateKey: pair.privateKey, publicKey });
      const error = await auth
        .buildDpopProof({ htm: 'GET', htu: 'https://a.example/' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toBe(
        '`dpop.publicKey` is not the public key of `dpop.privateKey`',
      );
      await expect(auth.getToken()).rejects.toThrow(TypeError);
      expect(fetch.seen).toHaveLength(0);
    }
  });

  it('throws TypeError when DPoP is off', async () => {
    const { auth } = dpopClient(false);
    await expect(auth.buildDpopProof({ htm: 'GET', htu: 'https://a.example/' })).rejects.toThrow(
      TypeError,
    );
  });

  it('throws TypeError for a method that is no HTTP token or a URL that is not absolute http(s)', async () => {
    const { auth } = dpopClient(true);
    await expect(auth.buildDpopProof({ htm: 'GE T', htu: 'https://a.example/' })).rejects.toThrow(
      TypeError,
    );
    await expect(auth.buildDpopProof({ htm: 'GET', htu: '/relative' })).rejects.toThrow(TypeError);
    await expect(auth.buildDpopProof({ htm: 'GET', htu: 'ftp://a.example/' })).rejects.toThrow(
      TypeError,
    );
  });
});

describe('DPoP token requests', () => {
  it('sends a proof for POST to the token endpoint and returns a DPoP token', async () => {
    const fetch = fakeFetch(() => json({ access_token: 't', token_type: 'DPoP', expires_in: 60 }));
    const { auth } = dpopClient(true, fetch);
    expect((await auth.getToken()).token_type).toBe('DPoP');
    const proof = fetch.seen[0]?.headers.get('dpop') ?? '';
    const { payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
    expect(payload).toMatchObject({ htm: 'POST', htu: tokenEndpoint });
    expect(payload.nonce).toBeUndefined();
  });

  it('retries once with the nonce from a use_dpop_nonce answer, and remembers it', async () => {
    const fetch = fakeFetch((_, i) =>
      i === 0
        ? json({ error: 'use_dpop_nonce' }, 400, { 'DPoP-Nonce': 'nonce-1' })
        : json({ access_token: `t${i}`, token_type: 'DPoP', expires_in: 60 }),
    );
    const { auth } = dpopClient(true, fetch);
    await auth.getToken();
    await auth.getToken({ scope: 'other' });
    expect(fetch.seen).toHaveLength(3);
    const nonces = await Promise.all(
      fetch.seen.map(
        async (r) => (await jwtVerify(r.headers.get('dpop') ?? '', EmbeddedJWK)).payload.nonce,
      ),
    );
    expect(nonces).toEqual([undefined, 'nonce-1', 'nonce-1']);
  });

  it('gives up after one nonce retry', async () => {
    let n = 0;
    const fetch = fakeFetch(() =>
      json({ error: 'use_dpop_nonce' }, 400, { 'DPoP-Nonce': `nonce-${n++}` }),
    );
    const { auth } = dpopClient(true, fetch);
    await expect(auth.getToken()).rejects.toMatchObject({
      name: 'OAuthError',
      code: 'use_dpop_nonce',
      status: 400,
    });
    expect(fetch.seen).toHaveLength(2);
  });
});
