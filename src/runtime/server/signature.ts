import type { AsymmetricAlgorithm } from '../crypto/algorithms.js';
import { verifySignature as verifyWithBackend } from '../crypto/backend.js';
import { importJwk, type PublicJwk } from '../crypto/jwk.js';
import type { CompactJws } from './compact-jws.js';

export { hasPrivateMembers, publicJwk, type PublicJwk } from '../crypto/jwk.js';

/**
 * Imports a public JWK to verify `alg`, non-extractable; `undefined` when the key does not suit
 * `alg` (its `kty`, `crv` or RSA modulus) or WebCrypto refuses it. A private key is refused.
 */
export async function importVerificationKey(
  jwk: PublicJwk,
  alg: AsymmetricAlgorithm,
): Promise<CryptoKey | undefined> {
  try {
    return await importJwk(jwk, alg, 'verify');
  } catch {
    return undefined;
  }
}

/**
 * Checks the signature of a structurally valid JWS with one key. This is the single place the
 * signature is computed; it is `false` rather than a throw for every failure, and a plain
 * boolean or a promise of one depending on the crypto backend (`node:crypto` answers at once).
 */
export function verifySignature(
  jws: CompactJws,
  alg: AsymmetricAlgorithm,
  key: CryptoKey,
): boolean | Promise<boolean> {
  return verifyWithBackend(alg, key, jws.compact, jws.payloadEnd, jws.signature);
}
