/**
 * Test fixtures for the resource server: issuer keys, raw JWS signing with full control over
 * every byte (so malformed and hostile tokens can be built), DPoP proofs, and a fake
 * authorization server behind an injected `fetch` that counts requests.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  createResourceServer,
  type ResourceServer,
  type ResourceServerOptions,
} from '../../../src/server.js';
import { encodeBase64url as base64url } from '../../../src/runtime/crypto/backend.js';
import type { FetchLike } from '../../../src/runtime/shared/options.js';
import { manualClock, type ManualClock } from '../../support/clock.js';
import { accessTokenHash } from '../../support/dpop.js';

export const ISSUER = 'https://idp.example.test';
export const AUDIENCE = 'https://api.example.test';
export const JWKS_URI = `${ISSUER}/jwks`;
export const RESOURCE_URL = 'https://api.example.test/orders/42';
/** 2026-11-23T12:00:00Z, a fixed start for every test clock. */
export const START = new Date(Date.UTC(2026, 10, 23, 12, 0, 0));

export type TestAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA' | 'RS384' | 'ES512';

export interface TestKey {
  alg: TestAlgorithm;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public JWK as published, with `kid`, `alg` and `use`. */
  jwk: JWK;
  privateJwk: JWK;
}

const generation: Record<TestAlgorithm, string> = {
  RS256: 'RS256',
  RS384: 'RS384',
  PS256: 'PS256',
  ES256: 'ES256',
  ES384: 'ES384',
  ES512: 'ES512',
  EdDSA: 'Ed25519',
};

export async function makeKey(
  alg: TestAlgorithm,
  kid = `${alg.toLowerCase()}-1`,
): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(generation[alg], { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  return {
    alg,
    kid,
    privateKey,
    publicKey,
    jwk: { ...publicJwk, kid, alg, use: 'sig' },
    privateJwk,
  };
}

const signing: Record<string, AlgorithmIdentifier | RsaPssParams | EcdsaParams> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  RS384: { name: 'RSASSA-PKCS1-v1_5' },
  PS256: { name: 'RSA-PSS', saltLength: 32 },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  ES384: { name: 'ECDSA', hash: 'SHA-384' },
  ES512: { name: 'ECDSA', hash: 'SHA-512' },
  EdDSA: { name: 'Ed25519' },
  Ed25519: { name: 'Ed25519' },
};

/** A header or payload: an object to serialise, or exact JSON text. */
export type Part = Record<string, unknown> | string;

export function encodePart(part: Part): string {
  return base64url(typeof part === 'string' ? part : JSON.stringify(part));
}

/** Signs `b64(header).b64(payload)` with a private key, exactly as given. */
export async function signParts(
  headerB64: string,
  payloadB64: string,
  key: CryptoKey,
  alg: string,
): Promise<string> {
  const params = signing[alg];
  if (!params) throw new Error(`no signing parameters for ${alg}`);
  const input = new TextEncoder().encode(`${headerB64}.${payloadB64}`);
  const signature = new Uint8Array(await crypto.subtle.sign(params, key, input));
  return `${headerB64}.${payloadB64}.${base64url(signature)}`;
}

export async function signJws(
  header: Part,
  payload: Part,
  key: CryptoKey,
  alg: string,
): Promise<string> {
  return signParts(encodePart(header), encodePart(payload), key, alg);
}

/** HMAC-signs a JWS with arbitrary bytes as the secret (the "public key as HMAC secret" attack). */
export async function hmacJws(
  header: Part,
  payload: Part,
  secret: Uint8Array,
  alg: 'HS256' | 'HS384' | 'HS512',
): Promise<string> {
  const hash = `SHA-${alg.slice(2)}`;
  const key = await crypto.subtle.importKey(
    'raw',
    new Uint8Array(secret),
    { name: 'HMAC', hash },
    false,
    ['sign'],
  );
  const input = `${encodePart(header)}.${encodePart(payload)}`;
  const signature = new Uint8Array(
    await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input)),
  );
  return `${input}.${base64url(signature)}`;
}

/** Valid RFC 9068 claims at the given time, with overrides (`undefined` removes a claim). */
export function accessClaims(
  nowSeconds: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'orders-worker',
    aud: AUDIENCE,
    client_id: 'orders-worker',
    scope: 'orders:read orders:write',
    iat: nowSeconds,
    exp: nowSeconds + 300,
    jti: `jti-${Math.random().toString(36).slice(2)}`,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return claims;
}

export function accessHeader(
  key: TestKey,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const header: Record<string, unknown> = { alg: key.alg, typ: 'at+jwt', kid: key.kid };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete header[name];
    else header[name] = value;
  }
  return header;
}

/** A valid access token signed by `key`. */
export async function accessToken(
  key: TestKey,
  nowSeconds: number,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return signJws(
    accessHeader(key, header),
    accessClaims(nowSeconds, claims),
    key.privateKey,
    key.alg,
  );
}

/** A fake authorization server: discovery, a JWKS that tests can change or break, request counts. */
export interface FakeIdp {
  fetch: FetchLike;
  /** Every URL fetched, in order. */
  urls: string[];
  jwksRequests(): number;
  setKeys(keys: JWK[]): void;
  /** `'down'`: fetch rejects; a number: answer with that status; `undefined`: serve the keys. */
  failWith(failure: 'down' | number | undefined): void;
  /** Holds JWKS answers until `release()` (for concurrency tests). */
  hold(): { release(): void };
}

export function fakeIdp(keys: JWK[], issuer = ISSUER): FakeIdp {
  let current = keys;
  let failure: 'down' | number | undefined;
  let gate: Promise<void> | undefined;
  const urls: string[] = [];
  const fetch: FetchLike = async (input) => {
    const url = input.url;
    urls.push(url);
    if (gate) await gate;
    if (failure === 'down')
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      });
    if (typeof failure === 'number')
      return new Response('{"error":"server_error"}', { status: failure });
    const { pathname } = new URL(url);
    if (pathname === '/.well-known/oauth-authorization-server') {
      return Response.json({
        issuer,
        jwks_uri: `${issuer}/jwks`,
        token_endpoint: `${issuer}/token`,
      });
    }
    if (pathname === '/jwks') return Response.json({ keys: current });
    return new Response('{"error":"not_found"}', { status: 404 });
  };
  return {
    fetch,
    urls,
    jwksRequests: () => urls.filter((url) => new URL(url).pathname === '/jwks').length,
    setKeys(next) {
      current = next;
    },
    failWith(next) {
      failure = next;
    },
    hold() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return { release };
    },
  };
}

export interface Setup {
  server: ResourceServer;
  idp: FakeIdp;
  clock: ManualClock;
  key: TestKey;
  /** Epoch seconds now on the test clock. */
  now(): number;
}

/** A resource server over a fake IdP publishing `key` (default: a fresh ES256 key). */
export async function setup(
  options: Partial<ResourceServerOptions> = {},
  keys?: { key?: TestKey; published?: JWK[] },
): Promise<Setup> {
  const key = keys?.key ?? (await makeKey('ES256'));
  const idp = fakeIdp(keys?.published ?? [key.jwk]);
  const clock = manualClock(START);
  const server = createResourceServer({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: JWKS_URI,
    fetch: idp.fetch,
    now: clock.now,
    ...options,
  });
  return { server, idp, clock, key, now: () => clock.seconds() };
}

// ---------------------------------------------------------------------------------------------
// DPoP
// ---------------------------------------------------------------------------------------------

export interface DpopKey {
  alg: TestAlgorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
  jkt: string;
}

export async function makeDpopKey(alg: TestAlgorithm = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(generation[alg], { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return {
    alg,
    privateKey,
    publicJwk,
    privateJwk: await exportJWK(privateKey),
    jkt: await calculateJwkThumbprint(publicJwk, 'sha256'),
  };
}

export interface ProofOptions {
  htm?: string;
  htu?: string;
  accessToken?: string;
  iat?: number;
  jti?: string;
  nonce?: string;
  /** Header members to set (`undefined` removes one). */
  header?: Record<string, unknown>;
  /** Claims to set (`undefined` removes one). */
  claims?: Record<string, unknown>;
  /** Sign with this key instead of the one in the header. */
  signWith?: CryptoKey;
}

export async function dpopProof(
  key: DpopKey,
  nowSeconds: number,
  options: ProofOptions = {},
): Promise<string> {
  const header: Record<string, unknown> = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk };
  for (const [name, value] of Object.entries(options.header ?? {})) {
    if (value === undefined) delete header[name];
    else header[name] = value;
  }
  const claims: Record<string, unknown> = {
    jti: options.jti ?? crypto.randomUUID(),
    htm: options.htm ?? 'GET',
    htu: options.htu ?? RESOURCE_URL,
    iat: options.iat ?? nowSeconds,
  };
  if (options.accessToken !== undefined) claims.ath = accessTokenHash(options.accessToken);
  if (options.nonce !== undefined) claims.nonce = options.nonce;
  for (const [name, value] of Object.entries(options.claims ?? {})) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return signJws(header, claims, options.signWith ?? key.privateKey, key.alg);
}

/** A GET request to {@link RESOURCE_URL} with the given headers. */
export function request(
  headers: Record<string, string>,
  init: { method?: string; url?: string } = {},
): Request {
  return new Request(init.url ?? RESOURCE_URL, { method: init.method ?? 'GET', headers });
}

/** The claims a JWS carries, decoded from its payload: what a verified token resolves to. */
export function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
