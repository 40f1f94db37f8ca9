import { importJWK, type JWK } from 'jose';
import { verifySignature as verifyWithBackend } from '../crypto/backend.js';
import type { AsymmetricAlgorithm } from './algorithms.js';
import type { CompactJws } from './compact-jws.js';

/** The members that make up a public key of each type (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). */
const publicMembers: Readonly<Record<string, readonly string[]>> = {
  RSA: ['n', 'e'],
  EC: ['crv', 'x', 'y'],
  OKP: ['crv', 'x'],
};

/** Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export function hasPrivateMembers(jwk: Readonly<Record<string, unknown>>): boolean {
  for (const name of privateMembers)
    if (Object.prototype.hasOwnProperty.call(jwk, name)) return true;
  return false;
}

/**
 * The public members of an RSA, EC or OKP key, copied into a fresh object; `undefined` for a
 * private or symmetric key, another key type, or members that are not strings. Nothing else
 * (`alg`, `key_ops`, `ext`, `x5c`, …) reaches the key import.
 */
export function publicJwk(jwk: Readonly<Record<string, unknown>>): JWK | undefined {
  const kty = jwk['kty'];
  if (typeof kty !== 'string' || !Object.prototype.hasOwnProperty.call(publicMembers, kty)) {
    return undefined;
  }
  if (hasPrivateMembers(jwk)) return undefined;
  const out: Record<string, string> = { kty };
  for (const name of publicMembers[kty] as readonly string[]) {
    const value = jwk[name];
    if (typeof value !== 'string' || value.length === 0) return undefined;
    out[name] = value;
  }
  return out as JWK;
}

/** Imports a public JWK for `alg`; `undefined` when the key does not suit it or WebCrypto refuses it. */
export async function importVerificationKey(
  jwk: JWK,
  alg: AsymmetricAlgorithm,
): Promise<CryptoKey | undefined> {
  try {
    const key = await importJWK(jwk, alg);
    return key instanceof Uint8Array ? undefined : key;
  } catch {
    return undefined;
  }
}

/**
 * Checks the signature of a structurally valid JWS with one key. This is the single place the
 * signature is computed; it is `false` rather than a throw for every failure, and a plain
 * boolean or a promise of one depending on the crypto backend (`node:crypto` answers at once).
 */
export type SignatureVerifier = (
  jws: CompactJws,
  alg: AsymmetricAlgorithm,
  key: CryptoKey,
) => boolean | Promise<boolean>;

export const verifySignature: SignatureVerifier = (jws, alg, key) =>
  verifyWithBackend(alg, key, jws.compact, jws.payloadEnd, jws.signature);
