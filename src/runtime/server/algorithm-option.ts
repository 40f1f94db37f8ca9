import {
  ASYMMETRIC_ALGORITHMS,
  isAsymmetricAlgorithm,
  type AsymmetricAlgorithm,
} from '../crypto/algorithms.js';

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
