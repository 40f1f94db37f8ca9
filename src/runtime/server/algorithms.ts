import type { AsymmetricAlgorithm } from '../shared/keys.js';

// One list of asymmetric algorithms for the whole SDK: the client signs with them, the
// resource server verifies them. Symmetric (`HS*`) and unsecured (`none`) algorithms are absent
// on purpose: a verifier that accepts them can be fooled into using a public key as an HMAC
// secret (RFC 8725 §2.1, §3.1). `EdDSA` means Ed25519 here; Ed448 has no WebCrypto support.
export type { AsymmetricAlgorithm };

interface KeyRequirement {
  kty: 'RSA' | 'EC' | 'OKP';
  crv?: string;
}

const requirements: Readonly<Record<AsymmetricAlgorithm, KeyRequirement>> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

/** Every algorithm the resource server supports, in the order it advertises them. */
export const ASYMMETRIC_ALGORITHMS: readonly AsymmetricAlgorithm[] = Object.freeze(
  Object.keys(requirements) as AsymmetricAlgorithm[],
);

/** An own-property lookup: `alg` comes from an attacker, so `__proto__` or `toString` must not match. */
export function isAsymmetricAlgorithm(alg: unknown): alg is AsymmetricAlgorithm {
  return typeof alg === 'string' && Object.prototype.hasOwnProperty.call(requirements, alg);
}

/**
 * Whether a JWK's key type (and curve) suits `alg`. `EdDSA` is read as Ed25519: Ed448 has no
 * WebCrypto support, so it is never accepted.
 */
export function keyFitsAlgorithm(alg: AsymmetricAlgorithm, kty: unknown, crv: unknown): boolean {
  const need = requirements[alg];
  return kty === need.kty && (need.crv === undefined || crv === need.crv);
}

/** A JWK `alg` member names the same algorithm as a JWS `alg` (`EdDSA` and `Ed25519` are one). */
export function sameAlgorithm(jwkAlg: string, alg: AsymmetricAlgorithm): boolean {
  if (jwkAlg === alg) return true;
  return (jwkAlg === 'EdDSA' || jwkAlg === 'Ed25519') && (alg === 'EdDSA' || alg === 'Ed25519');
}

/**
 * Checks an `algorithms` option at factory time: a non-empty list of supported asymmetric
 * algorithms. `none`, `HS*` and anything unknown are a `TypeError`, whatever the caller meant.
 */
export function validateAlgorithms(
  value: unknown,
  name: string,
  where: string,
  fallback: readonly AsymmetricAlgorithm[],
): ReadonlySet<AsymmetricAlgorithm> {
  if (value === undefined) return new Set(fallback);
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(
      `${where}: \`${name}\` must be a non-empty array of asymmetric JWS algorithms`,
    );
  }
  for (const alg of value as unknown[]) {
    if (!isAsymmetricAlgorithm(alg)) {
      const shown = typeof alg === 'string' ? `"${alg.slice(0, 20)}"` : typeof alg;
      throw new TypeError(
        `${where}: \`${name}\` may only list asymmetric JWS algorithms (${ASYMMETRIC_ALGORITHMS.join(', ')}); ${shown} is not one` +
          (typeof alg === 'string' && (/^hs\d/i.test(alg) || alg.toLowerCase() === 'none')
            ? ': `none` and HMAC algorithms are never accepted'
            : ''),
      );
    }
  }
  return new Set(value as AsymmetricAlgorithm[]);
}
