import { calculateJwkThumbprint, EmbeddedJWK, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDpopKey } from '../../../src/client.js';
import { manualClock } from '../fake-fetch.js';

describe('createDpopKey', () => {
  it('signs proofs with a fresh Ed25519 key whose thumbprint it reports', async () => {
    const clock = manualClock();
    const key = createDpopKey(true, { now: clock.now });
    const proof = await key.buildDpopProof({
      htm: 'DELETE',
      htu: 'https://api.example.test/orders/9?force=1#x',
      accessToken: 'abc.def.ghi',
      nonce: 'n-7',
    });
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(payload).toMatchObject({
      htm: 'DELETE',
      htu: 'https://api.example.test/orders/9',
      iat: Math.floor(clock.now().getTime() / 1000),
      ath: createHash('sha256').update('abc.def.ghi').digest('base64url'),
      nonce: 'n-7',
    });
    expect(await key.thumbprint()).toBe(await calculateJwkThumbprint(protectedHeader.jwk!));
    // One key per object: a second proof carries the same key, a second object another one.
    const again = await key.buildDpopProof({ htm: 'GET', htu: 'https://api.example.test/' });
    expect((await jwtVerify(again, EmbeddedJWK)).protectedHeader.jwk).toEqual(protectedHeader.jwk);
    expect(await createDpopKey().thumbprint()).not.toBe(await key.thumbprint());
  });

  it('makes one key for proofs asked for at once, before any key exists', async () => {
    const key = createDpopKey();
    const proofs = await Promise.all(
      ['a', 'b', 'c'].map((path) =>
        key.buildDpopProof({ htm: 'GET', htu: `https://api.example.test/${path}` }),
      ),
    );
    const thumbprints = await Promise.all(
      proofs.map(async (proof) =>
        calculateJwkThumbprint((await jwtVerify(proof, EmbeddedJWK)).protectedHeader.jwk!),
      ),
    );
    expect(new Set(thumbprints)).toEqual(new Set([await key.thumbprint()]));
  });

  it('signs with a supplied key pair, JWKs or CryptoKeys', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(pair.publicKey);
    for (const privateKey of [pair.privateKey, await exportJWK(pair.privateKey)]) {
      const key = createDpopKey({ privateKey, publicKey: publicJwk });
      const proof = await key.buildDpopProof({ htm: 'GET', htu: 'https://api.example.test/' });
      const { protectedHeader } = await jwtVerify(proof, EmbeddedJWK);
      expect(protectedHeader.alg).toBe('ES256');
      expect(protectedHeader.jwk).not.toHaveProperty('d');
      expect(await key.thumbprint()).toBe(await calculateJwkThumbprint(publicJwk));
    }
  });

  it('refuses what is not a signing key pair when it is made', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    expect(() => createDpopKey(false as never)).toThrow(/createDpopKey: `key`/);
    expect(() => createDpopKey({ privateKey: pair.privateKey } as never)).toThrow(TypeError);
    const symmetric = {
      privateKey: { kty: 'oct', k: 'c2VjcmV0' },
      publicKey: { kty: 'oct', k: 'c2VjcmV0' },
    };
    expect(() => createDpopKey(symmetric)).toThrow(/createDpopKey: `key.privateKey`/);
    expect(() => createDpopKey(true, { now: 'yesterday' as never })).toThrow(TypeError);
  });

  it('refuses a bad request target on each proof, as buildDpopProof does', async () => {
    const key = createDpopKey();
    await expect(key.buildDpopProof({ htm: 'GET', htu: '/relative' })).rejects.toThrow(TypeError);
    await expect(key.buildDpopProof({ htm: 'GET /x', htu: 'https://a.example/' })).rejects.toThrow(
      TypeError,
    );
  });
});
