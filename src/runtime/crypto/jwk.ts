// JSON Web Keys (RFC 7517) into WebCrypto keys, and their RFC 7638 thumbprints. Shared by both
// crypto backends: keys are WebCrypto `CryptoKey`s everywhere, the Node backend only takes the
// `KeyObject` behind one when it first signs or verifies with it.
import {
  keyFits,
  keyFitsAlgorithm,
  sameAlgorithm,
  schemeOf,
  type AsymmetricAlgorithm,
} from './algorithms.js';
import { sha256Base64url } from './backend.js';

/** An RSA, EC or OKP public key, key material only (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). */
export type PublicJwk =
  | { readonly kty: 'RSA'; readonly n: string; readonly e: string; readonly crv?: undefined }
  | { readonly kty: 'EC'; readonly crv: string; readonly x: string; readonly y: string }
  | { readonly kty: 'OKP'; readonly crv: string; readonly x: string };

/** The members that make up a public key of each type, in lexicographic order (RFC 7638 §3.2). */
const publicMembers: Readonly<Record<string, readonly string[]>> = {
  RSA: ['e', 'n'],
  EC: ['crv', 'x', 'y'],
  OKP: ['crv', 'x'],
};

/** Members only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** The private members WebCrypto reads from a private key of each type. */
const privateImportMembers: Readonly<Record<string, readonly string[]>> = {
  RSA: ['d', 'p', 'q', 'dp', 'dq', 'qi'],
  EC: ['d'],
  OKP: ['d'],
};

const own = (object: object, name: string) => Object.prototype.hasOwnProperty.call(object, name);

/**
 * Whether a JWK has a member only a private or symmetric key has. A member set to `undefined`
 * is absent: workerd's `exportKey('jwk')` lists every member a JWK may have, most of them so.
 */
export function hasPrivateMembers(jwk: Readonly<Record<string, unknown>>): boolean {
  for (const name of privateMembers) if (own(jwk, name) && jwk[name] !== undefined) return true;
  return false;
}

/**
 * The public members of an RSA, EC or OKP key, copied into a fresh object; `undefined` for a
 * private or symmetric key, another key type, or members that are not non-empty strings.
 * Nothing else (`alg`, `key_ops`, `ext`, `x5c`, …) is kept.
 */
export function publicJwk(jwk: Readonly<Record<string, unknown>>): PublicJwk | undefined {
  const kty = jwk.kty;
  if (typeof kty !== 'string' || !own(publicMembers, kty)) return undefined;
  if (hasPrivateMembers(jwk)) return undefined;
  return copyMembers(jwk, kty, publicMembers[kty]!) as PublicJwk | undefined;
}

function copyMembers(
  jwk: Readonly<Record<string, unknown>>,
  kty: string,
  names: readonly string[],
): Record<string, string> | undefined {
  const out: Record<string, string> = { kty };
  for (const name of names) {
    const value = own(jwk, name) ? jwk[name] : undefined;
    if (typeof value !== 'string' || value.length === 0) return undefined;
    out[name] = value;
  }
  return out;
}

/**
 * The JSON whose SHA-256 is the RFC 7638 thumbprint of a public key: its required members in
 * lexicographic order, without whitespace (§3.2, §3.3).
 */
export function thumbprintInput(jwk: PublicJwk): string {
  switch (jwk.kty) {
    case 'EC':
      return JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
    case 'OKP':
      return JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
    default:
      return JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  }
}

/**
 * The RFC 7638 SHA-256 thumbprint of a public key, base64url: a string or a promise of one,
 * depending on the crypto backend.
 */
export function jwkThumbprint(jwk: PublicJwk): string | Promise<string> {
  return sha256Base64url(thumbprintInput(jwk));
}

/**
 * Imports a JWK for one algorithm and one use, as a non-extractable WebCrypto key: a private
 * key to `sign`, a public key to `verify`. The key's `kty` (and `crv`) must be the ones `alg`
 * names, so a key never serves an algorithm of another family (RFC 8725 §3.1): an RSA key is
 * never an ES256 key, a P-256 key never an ES384 key. Only the key material reaches WebCrypto;
 * `alg`, `use`, `key_ops` and `ext` of the JWK are read here, not passed on. Throws a
 * `TypeError` whose message names no key material.
 */
export async function importJwk(
  jwk: Readonly<Record<string, unknown>>,
  alg: AsymmetricAlgorithm,
  usage: 'sign' | 'verify',
): Promise<CryptoKey> {
  const scheme = schemeOf(alg);
  if (scheme === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- callers in plain JavaScript can pass anything
    throw new TypeError(`${String(alg)} is not a supported algorithm`);
  }
  const { kty, crv, alg: jwkAlg, use, key_ops: keyOps } = jwk;
  if (!keyFitsAlgorithm(alg, kty, crv)) {
    const needs = scheme.crv === undefined ? scheme.kty : `${scheme.kty} with crv ${scheme.crv}`;
    throw new TypeError(`the JWK does not fit ${alg}, which needs kty ${needs}`);
  }
  // `EdDSA` and `Ed25519` name the same algorithm here (RFC 8037 §3.1, RFC 9864).
  if (jwkAlg !== undefined && !sameAlgorithm(jwkAlg, alg)) {
    throw new TypeError(`the JWK names another algorithm than ${alg} (\`alg\`)`);
  }
  if (use !== undefined && use !== 'sig') {
    throw new TypeError('the JWK is not meant for signatures (`use`)');
  }
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes(usage))) {
    throw new TypeError(`the JWK is not meant to ${usage} (\`key_ops\`)`);
  }
  let material: Record<string, string> | undefined;
  if (usage === 'verify') {
    if (hasPrivateMembers(jwk)) throw new TypeError('the JWK is not a public key');
    material = copyMembers(jwk, scheme.kty, publicMembers[scheme.kty]!);
  } else {
    if (!own(jwk, 'd') || typeof jwk.d !== 'string' || (own(jwk, 'k') && jwk.k !== undefined)) {
      throw new TypeError('the JWK is not a private key');
    }
    if (own(jwk, 'oth') && jwk.oth !== undefined)
      throw new TypeError('multi-prime RSA keys (`oth`) are not supported');
    material = copyMembers(jwk, scheme.kty, publicMembers[scheme.kty]!);
    for (const name of privateImportMembers[scheme.kty]!) {
      const value = own(jwk, name) ? jwk[name] : undefined;
      if (material === undefined || value === undefined) continue;
      if (typeof value !== 'string') material = undefined;
      else material[name] = value;
    }
  }
  if (material === undefined) throw new TypeError('the JWK members are missing or not strings');
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('jwk', material, scheme.importParams, false, [usage]);
  } catch (cause) {
    throw new TypeError('the JWK could not be imported', { cause });
  }
  // The imported key meets what signing and verifying will ask of it, RSA modulus size included.
  if (!keyFits(key, scheme, usage)) {
    throw new TypeError(
      scheme.minRsaBits === undefined
        ? `the JWK is not a key ${alg} accepts`
        : `the RSA key is shorter than ${scheme.minRsaBits} bits, the least ${alg} accepts`,
    );
  }
  return key;
}
