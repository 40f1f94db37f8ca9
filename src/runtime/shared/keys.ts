import {
  isAsymmetricAlgorithm,
  keyFits,
  schemeOf,
  type AsymmetricAlgorithm,
} from '../crypto/algorithms.js';
import {
  hasPrivateMembers,
  importJwk,
  jwkThumbprint,
  publicJwk,
  type PublicJwk,
} from '../crypto/jwk.js';

export { isAsymmetricAlgorithm, type AsymmetricAlgorithm };
export type { PublicJwk };

/**
 * A JSON Web Key (RFC 7517) as a plain object. Declared here rather than taken from `jose` so
 * the package's CommonJS type declarations do not import an ESM-only module.
 */
export interface JsonWebKeyInput {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  [member: string]: unknown;
}

/** A signing key as a user hands it in: a WebCrypto key or a private JWK. */
export type KeyInput = CryptoKey | JsonWebKeyInput;

export function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey !== 'undefined' && value instanceof CryptoKey;
}

const curveAlgorithms: Record<string, AsymmetricAlgorithm> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
};

/** The JWS algorithm a key signs with, from the key itself (or its JWK `alg`). */
export function algorithmOf(key: KeyInput): AsymmetricAlgorithm | undefined {
  if (isCryptoKey(key)) {
    const algorithm = key.algorithm as {
      name: string;
      namedCurve?: string;
      hash?: { name: string };
    };
    const bits = algorithm.hash?.name.replace('SHA-', '');
    switch (algorithm.name) {
      case 'Ed25519':
        return 'EdDSA';
      case 'ECDSA':
        return curveAlgorithms[algorithm.namedCurve ?? ''];
      case 'RSASSA-PKCS1-v1_5':
        return bits ? (`RS${bits}` as AsymmetricAlgorithm) : undefined;
      case 'RSA-PSS':
        return bits ? (`PS${bits}` as AsymmetricAlgorithm) : undefined;
      default:
        return undefined;
    }
  }
  if (isAsymmetricAlgorithm(key.alg)) return key.alg;
  if (key.kty === 'OKP' && key.crv === 'Ed25519') return 'EdDSA';
  if (key.kty === 'EC') return curveAlgorithms[key.crv ?? ''];
  if (key.kty === 'RSA') return 'RS256';
  return undefined;
}

/** A key ready to sign, with what a JWS header needs to name it. */
export interface SigningKey {
  alg: AsymmetricAlgorithm;
  key: CryptoKey;
  kid: string | undefined;
}

/**
 * Imports a private signing key once. JWKs are imported as non-extractable keys so the private
 * material never leaves WebCrypto again.
 */
export async function importSigningKey(
  input: KeyInput,
  where: string,
  requested?: AsymmetricAlgorithm,
): Promise<SigningKey> {
  const alg = requested ?? algorithmOf(input);
  if (!alg)
    throw new TypeError(
      `${where}: the key's algorithm is not a supported asymmetric JWS algorithm`,
    );
  if (isCryptoKey(input)) {
    if (input.type !== 'private') throw new TypeError(`${where}: a private key is required`);
    const scheme = schemeOf(alg);
    if (!scheme || !keyFits(input, scheme, 'sign'))
      throw new TypeError(`${where}: the key cannot sign with ${alg}`);
    return { alg, key: input, kid: undefined };
  }
  if (!('d' in input)) throw new TypeError(`${where}: the JWK is not a private key`);
  let key: CryptoKey;
  try {
    key = await importJwk(input, alg, 'sign');
  } catch (error) {
    // The reasons importJwk gives name no key material.
    const reason = error instanceof TypeError ? error.message : 'the JWK could not be imported';
    throw new TypeError(`${where}: ${reason}`, {
      // eslint-disable-next-line preserve-caught-error -- importJwk's TypeError is restated, so its own cause is the one to keep
      cause: error instanceof TypeError ? error.cause : error,
    });
  }
  return { alg, key, kid: typeof input.kid === 'string' ? input.kid : undefined };
}

/** The public members of a key as a JWK (RFC 7517), with nothing private and no metadata. */
export async function publicJwkOf(input: KeyInput): Promise<PublicJwk> {
  if (isCryptoKey(input) && input.type !== 'public')
    throw new TypeError('a public key is required');
  if (!isCryptoKey(input) && hasPrivateMembers(input))
    throw new TypeError('a public JWK is required');
  const jwk = isCryptoKey(input)
    ? ((await crypto.subtle.exportKey('jwk', input)) as Record<string, unknown>)
    : input;
  const found = publicJwk(jwk);
  if (found === undefined) {
    throw new TypeError(
      typeof jwk.kty === 'string' && ['RSA', 'EC', 'OKP'].includes(jwk.kty)
        ? `the ${jwk.kty} public key is missing members, or they are not strings`
        : `unsupported key type ${String(jwk.kty).slice(0, 20)}`,
    );
  }
  return found;
}

/** RFC 7638 JWK SHA-256 thumbprint, base64url. */
export async function thumbprintOf(jwk: PublicJwk): Promise<string> {
  return jwkThumbprint(jwk);
}
