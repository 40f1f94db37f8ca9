/**
 * JWS algorithms the SDK signs and verifies with (client assertions, DPoP proofs, access
 * tokens): asymmetric only.
 */
export type AsymmetricAlgorithm =
  | 'EdDSA'
  | 'Ed25519'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512';

/**
 * Every asymmetric JWS algorithm the SDK supports, in the order a resource server advertises
 * them. Symmetric (`HS*`) and unsecured (`none`) algorithms are absent on purpose: a verifier
 * that accepts them can be fooled into using a public key as an HMAC secret (RFC 8725 §2.1,
 * §3.1). `EdDSA` means Ed25519 here; Ed448 has no WebCrypto support.
 */
export const ASYMMETRIC_ALGORITHMS: readonly AsymmetricAlgorithm[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

const asymmetric = new Set<string>(ASYMMETRIC_ALGORITHMS);

/** An exact lookup: `alg` may come from an attacker, so `__proto__` or `toString` never match. */
export function isAsymmetricAlgorithm(alg: unknown): alg is AsymmetricAlgorithm {
  return typeof alg === 'string' && asymmetric.has(alg);
}

/** A JWK `alg` member names the same algorithm as a JWS `alg` (`EdDSA` and `Ed25519` are one). */
export function sameAlgorithm(jwkAlg: unknown, alg: AsymmetricAlgorithm): boolean {
  if (jwkAlg === alg) return true;
  return (jwkAlg === 'EdDSA' || jwkAlg === 'Ed25519') && (alg === 'EdDSA' || alg === 'Ed25519');
}

/**
 * Whether a JWK's key type (and curve) suits `alg` (RFC 8725 §3.1): an RSA key is never an ES256
 * key, a P-256 key never an ES384 key.
 */
export function keyFitsAlgorithm(alg: AsymmetricAlgorithm, kty: unknown, crv: unknown): boolean {
  const scheme = schemeOf(alg);
  return (
    scheme !== undefined && kty === scheme.kty && (scheme.crv === undefined || crv === scheme.crv)
  );
}

/**
 * What a JWS algorithm needs from a key, as a WebCrypto key and as a JWK, and the parameters it
 * signs with.
 */
export interface SignatureScheme {
  /** The JWK `kty` of a key for this algorithm (RFC 7518 §6.1, RFC 8037 §2). */
  readonly kty: 'RSA' | 'EC' | 'OKP';
  /** The JWK `crv` of a key for this algorithm; `undefined` for RSA. */
  readonly crv: 'P-256' | 'P-384' | 'P-521' | 'Ed25519' | undefined;
  /** The key's `algorithm.name`. */
  readonly name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'ECDSA' | 'Ed25519';
  /** The key's `algorithm.hash.name` (RSA) or the digest of ECDSA; `undefined` for Ed25519. */
  readonly hash: 'SHA-256' | 'SHA-384' | 'SHA-512' | undefined;
  /** The key's `algorithm.namedCurve` (ECDSA). */
  readonly namedCurve: 'P-256' | 'P-384' | 'P-521' | undefined;
  /** RSA-PSS salt length in bytes: the digest's length (RFC 7518 §3.5). */
  readonly saltLength: number | undefined;
  /** Smallest RSA modulus accepted (RFC 7518 §3.3, §3.5: 2048 bits). */
  readonly minRsaBits: number | undefined;
  /** The `algorithm` argument of `crypto.subtle.sign` and `verify`. */
  readonly params: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
  /** The `algorithm` argument of `crypto.subtle.importKey`: binds the key to this scheme alone. */
  readonly importParams: AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams;
}

const curves = { 256: 'P-256', 384: 'P-384', 512: 'P-521' } as const;
const known = new Map<string, SignatureScheme>();

function build(alg: string): SignatureScheme | undefined {
  if (alg === 'EdDSA' || alg === 'Ed25519') {
    return {
      kty: 'OKP',
      crv: 'Ed25519',
      name: 'Ed25519',
      hash: undefined,
      namedCurve: undefined,
      saltLength: undefined,
      minRsaBits: undefined,
      params: { name: 'Ed25519' },
      importParams: { name: 'Ed25519' },
    };
  }
  const family = alg.slice(0, 2);
  const bits = Number(alg.slice(2)) as 256 | 384 | 512;
  if (alg.length !== 5 || !(bits in curves)) return undefined;
  const hash = `SHA-${bits}` as const;
  if (family === 'ES') {
    const params = { name: 'ECDSA', hash } as EcdsaParams;
    const namedCurve = curves[bits];
    return {
      kty: 'EC',
      crv: namedCurve,
      name: 'ECDSA',
      hash,
      namedCurve,
      saltLength: undefined,
      minRsaBits: undefined,
      params,
      importParams: { name: 'ECDSA', namedCurve },
    };
  }
  if (family !== 'RS' && family !== 'PS') return undefined;
  const name = family === 'PS' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5';
  // RFC 7518 §3.5: the PSS salt is as long as the digest.
  const saltLength = family === 'PS' ? bits / 8 : undefined;
  return {
    kty: 'RSA',
    crv: undefined,
    name,
    hash,
    namedCurve: undefined,
    saltLength,
    minRsaBits: 2048,
    params: { name, saltLength } as RsaPssParams,
    importParams: { name, hash },
  };
}

/**
 * The scheme of a JWS algorithm the SDK signs and verifies with (RFC 7518 §3, RFC 8037 §3.1):
 * RS, PS and ES with 256, 384 or 512 bits, and EdDSA (Ed25519). `undefined` for anything else,
 * `none` and HMAC included.
 */
export function schemeOf(alg: string): SignatureScheme | undefined {
  let scheme = known.get(alg);
  if (scheme === undefined && typeof alg === 'string' && isAsymmetricAlgorithm(alg)) {
    scheme = build(alg);
    if (scheme !== undefined) known.set(alg, scheme);
  }
  return scheme;
}

/**
 * Whether a WebCrypto key may be used for `alg`: the same checks jose makes before it signs or
 * verifies (algorithm name, hash, curve, an RSA modulus of at least 2048 bits, key type and
 * usage), so a key imported for RS384 never verifies an RS256 signature and a 1024-bit RSA key
 * never verifies anything.
 */
export function keyFits(
  key: CryptoKey,
  scheme: SignatureScheme,
  usage: 'sign' | 'verify',
): boolean {
  if (key.type !== (usage === 'sign' ? 'private' : 'public')) return false;
  if (!key.usages.includes(usage)) return false;
  const algorithm = key.algorithm as KeyAlgorithm & {
    hash?: { name?: string };
    namedCurve?: string;
    modulusLength?: number;
  };
  if (algorithm.name !== scheme.name) return false;
  if (
    scheme.name !== 'ECDSA' &&
    scheme.hash !== undefined &&
    algorithm.hash?.name !== scheme.hash
  ) {
    return false;
  }
  if (scheme.namedCurve !== undefined && algorithm.namedCurve !== scheme.namedCurve) return false;
  if (scheme.minRsaBits !== undefined) {
    const bits = algorithm.modulusLength;
    if (typeof bits !== 'number' || bits < scheme.minRsaBits) return false;
  }
  return true;
}

const curveSignatureBytes: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132 };

/**
 * Whether a signature has exactly the length `alg` and `key` produce (RFC 7518 §3.3–3.5,
 * RFC 8037 §3.1): the modulus length for RSA, `r‖s` for ECDSA, 64 bytes for Ed25519. Some
 * WebCrypto implementations accept an RSA signature with its leading zero byte dropped; the
 * JWS is then not the one that was signed, so both backends refuse it before verifying.
 */
export function signatureLengthFits(
  alg: AsymmetricAlgorithm,
  key: CryptoKey,
  signature: Uint8Array,
): boolean {
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    const { modulusLength } = key.algorithm as { modulusLength?: number };
    return typeof modulusLength === 'number' && signature.length === Math.ceil(modulusLength / 8);
  }
  if (alg === 'EdDSA' || alg === 'Ed25519') return signature.length === 64;
  return signature.length === curveSignatureBytes[alg];
}
