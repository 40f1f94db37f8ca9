/**
 * Inputs shared by the suites: issuer keys in every form the contenders want (JWK, PEM,
 * KeyObject, CryptoKey), RFC 9068 access tokens, the in-memory JWKS behind an injected `fetch`,
 * and the two builds of the library under test.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  randomUUID,
  sign,
  type KeyObject as NodeKeyObject,
} from 'node:crypto';
import { Buffer } from 'node:buffer';
import type * as Library from '../../src/index.js';

export type S2S = typeof Library;

/** The library as each build has it: `node` swaps in the `node:crypto` backend. */
export async function loadBuilds(): Promise<{ node: S2S; web: S2S }> {
  const [node, web] = await Promise.all([
    import(new URL('../lib/node.mjs', import.meta.url).href) as Promise<S2S>,
    import(new URL('../lib/web.mjs', import.meta.url).href) as Promise<S2S>,
  ]);
  return { node, web };
}

export const ISSUER = 'https://idp.example.com';
export const AUDIENCE = 'https://orders.example.com';
export const JWKS_URI = `${ISSUER}/jwks`;
export const RESOURCE_URL = 'https://orders.example.com/orders/42';

export type Alg = 'RS256' | 'ES256' | 'EdDSA';
/** The algorithms the verify suites run; S2S_BENCH_ALGS=RS256,ES256 narrows them (for profiling). */
export const ALGS: readonly Alg[] = (process.env.S2S_BENCH_ALGS?.split(',') as
  Alg[] | undefined) ?? ['RS256', 'ES256', 'EdDSA'];

export interface SigningKey {
  alg: Alg;
  kid: string;
  privateKey: NodeKeyObject;
  publicKey: NodeKeyObject;
  /** The public JWK as an issuer publishes it. */
  jwk: JsonWebKey & { kid: string; alg: string; use: string };
  pem: string;
  /** WebCrypto keys imported once, for the bare WebCrypto floor and for jose. */
  cryptoPublicKey: CryptoKey;
  cryptoPrivateKey: CryptoKey;
  /** `node:crypto` sign/verify parameters for this algorithm. */
  digest: string | null;
  options: { dsaEncoding?: 'ieee-p1363' };
  webcrypto: AlgorithmIdentifier | EcdsaParams;
}

/**
 * Key pairs come out of `generateKeyPairSync` as PEM and are read back into fresh KeyObjects.
 * Exporting a KeyObject that `generateKeyPairSync('rsa')` returned can deadlock Node 20: the
 * JWK export holds the key's mutex while it allocates, a garbage collection in that allocation
 * finalises the finished key-generation job, and the job's destructor waits for the same mutex
 * (the process then sits idle forever; `node --gc-interval=50` makes it happen at once).
 * Node 22 and 24 do not deadlock there.
 */
const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
const generation: Record<Alg, () => { privateKey: string; publicKey: string }> = {
  RS256: () =>
    generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding }),
  ES256: () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding }),
  EdDSA: () => generateKeyPairSync('ed25519', { publicKeyEncoding, privateKeyEncoding }),
};

const importParams: Record<Alg, RsaHashedImportParams | EcKeyImportParams | AlgorithmIdentifier> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
};

const signParams: Record<Alg, AlgorithmIdentifier | EcdsaParams> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  EdDSA: { name: 'Ed25519' },
};

export async function makeKey(alg: Alg, kid = `${alg.toLowerCase()}-1`): Promise<SigningKey> {
  const pair = generation[alg]();
  const privateKey = createPrivateKey(pair.privateKey);
  const publicKey = createPublicKey(pair.publicKey);
  const exported = publicKey.export({ format: 'jwk' }) as JsonWebKey;
  const params = importParams[alg];
  return {
    alg,
    kid,
    privateKey,
    publicKey,
    jwk: { ...exported, kid, alg, use: 'sig' },
    pem: pair.publicKey,
    cryptoPublicKey: await crypto.subtle.importKey('jwk', exported, params, true, ['verify']),
    cryptoPrivateKey: await crypto.subtle.importKey(
      'jwk',
      privateKey.export({ format: 'jwk' }) as JsonWebKey,
      params,
      false,
      ['sign'],
    ),
    digest: alg === 'EdDSA' ? null : 'sha256',
    options: alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' } : {},
    webcrypto: signParams[alg],
  };
}

export async function makeKeys(): Promise<Record<Alg, SigningKey>> {
  return {
    RS256: await makeKey('RS256'),
    ES256: await makeKey('ES256'),
    EdDSA: await makeKey('EdDSA'),
  };
}

export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/**
 * Signs a compact JWS with `node:crypto` (fast, so inputs for many rounds are cheap to make).
 * The result is a flat string, as a token read from an HTTP header is, not a concatenation
 * that whoever reads it first would pay to flatten.
 */
export function signJws(key: SigningKey, header: object, payload: object): string {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  const signature = sign(key.digest, Buffer.from(input), { key: key.privateKey, ...key.options });
  return Buffer.from(`${input}.${signature.toString('base64url')}`, 'latin1').toString('latin1');
}

/** A realistic RFC 9068 access token for a client-credentials client. */
export function accessToken(key: SigningKey, extra: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return signJws(
    key,
    { alg: key.alg, typ: 'at+jwt', kid: key.kid },
    {
      iss: ISSUER,
      sub: 'svc-billing-worker',
      aud: AUDIENCE,
      client_id: 'svc-billing-worker',
      scope: 'orders:read orders:write',
      iat: now,
      exp: now + 3600,
      jti: randomUUID(),
      ...extra,
    },
  );
}

/** A `fetch` serving discovery and the JWKS from memory, counting what it serves. */
export function memoryIdp(keys: SigningKey[]): {
  fetch: (input: Request) => Promise<Response>;
  requests: () => number;
} {
  let requests = 0;
  const jwks = { keys: keys.map((key) => key.jwk) };
  return {
    requests: () => requests,
    async fetch(input: Request) {
      requests++;
      const { pathname } = new URL(input.url);
      if (pathname === '/jwks') return Response.json(jwks);
      return Response.json({
        issuer: ISSUER,
        jwks_uri: JWKS_URI,
        token_endpoint: `${ISSUER}/token`,
      });
    },
  };
}

/** The `node:crypto` public key of a JWK, as a verifier with a pre-imported key holds it. */
export function keyObjectOf(jwk: JsonWebKey): KeyObject {
  return createPublicKey({ key: jwk as never, format: 'jwk' });
}
