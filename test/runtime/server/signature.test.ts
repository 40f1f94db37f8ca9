/**
 * Verification keys from a key set or a DPoP proof header: imported only for an algorithm
 * their kty and crv suit, never from private members, never extractable (RFC 8725 §3.1).
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  importVerificationKey,
  publicJwk,
  type PublicJwk,
} from '../../../src/runtime/server/signature.js';

let rsa: JWK;
let p256: JWK;
let ed25519: JWK;

beforeAll(async () => {
  rsa = await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey);
  p256 = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
  ed25519 = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey);
});

describe('importVerificationKey', () => {
  it('imports a public key for an algorithm it suits, to verify only and non-extractable', async () => {
    for (const [jwk, alg] of [
      [rsa, 'RS256'],
      [rsa, 'PS512'],
      [p256, 'ES256'],
      [ed25519, 'EdDSA'],
      [ed25519, 'Ed25519'],
    ] as const) {
      const key = await importVerificationKey(publicJwk(jwk)!, alg);
      expect(key, alg).toBeDefined();
      expect(key?.type).toBe('public');
      expect(key?.usages).toEqual(['verify']);
      expect(key?.extractable).toBe(false);
    }
  });

  it('is undefined for an algorithm of another key type or curve, whatever the caller passes', async () => {
    for (const [jwk, alg] of [
      [rsa, 'ES256'],
      [rsa, 'EdDSA'],
      [p256, 'RS256'],
      [p256, 'ES384'],
      [p256, 'ES512'],
      [p256, 'EdDSA'],
      [ed25519, 'ES256'],
      [ed25519, 'RS256'],
      [{ ...ed25519, crv: 'X25519' }, 'EdDSA'],
      [{ ...ed25519, crv: 'Ed448' }, 'EdDSA'],
    ] as const) {
      await expect(
        importVerificationKey(jwk as PublicJwk, alg),
        `${jwk.kty} ${alg}`,
      ).resolves.toBeUndefined();
    }
  });

  it('is undefined for a private or symmetric key handed to it directly', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(pair.privateKey);
    await expect(importVerificationKey(privateJwk as PublicJwk, 'ES256')).resolves.toBeUndefined();
    const oct = { kty: 'oct', k: 'c2VjcmV0' } as unknown as PublicJwk;
    await expect(importVerificationKey(oct, 'RS256')).resolves.toBeUndefined();
  });
});
