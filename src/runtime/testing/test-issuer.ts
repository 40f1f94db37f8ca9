import { encodeBase64url, randomBase64url, signCompact } from '../crypto/backend.js';
import type { AsymmetricAlgorithm } from '../crypto/algorithms.js';
import { createDpopKey, type DpopKey } from '../dpop/dpop-key.js';
import type { DpopProofOptions } from '../dpop/proof.js';
import { publicJwkOf, thumbprintOf, type PublicJwk } from '../shared/keys.js';
import {
  epochSeconds,
  optionKeys,
  rejectUnknownOptions,
  resolveClock,
  type Clock,
  type FetchLike,
} from '../shared/options.js';

/** Algorithms a test issuer can sign with. */
export type TestIssuerAlgorithm = Extract<
  AsymmetricAlgorithm,
  'ES256' | 'RS256' | 'PS256' | 'EdDSA'
>;

/** Options of {@link createTestIssuer}. */
export interface TestIssuerOptions {
  /** The issuer identifier the tokens carry and discovery publishes. Default `https://issuer.test`. */
  issuer?: string | undefined;
  /** The `aud` of minted tokens unless a token says otherwise. Default `https://api.test`. */
  audience?: string | readonly string[] | undefined;
  /** The signing algorithm. Default `ES256`. */
  alg?: TestIssuerAlgorithm | undefined;
  /** The clock of `iat`, `exp` and DPoP proofs' `iat`. Default `() => new Date()`. */
  now?: Clock | undefined;
}

const TEST_ISSUER_OPTION_KEYS = optionKeys<TestIssuerOptions>()([
  'issuer',
  'audience',
  'alg',
  'now',
]);
const MINT_OPTION_KEYS = optionKeys<MintOptions>()(['dpop', 'expiresInSeconds', 'typ', 'header']);

/** How {@link TestIssuer.mintAccessToken} shapes the token, beyond its claims. */
export interface MintOptions {
  /**
   * Bind the token to a DPoP key (`cnf.jkt`, RFC 9449 §6): `true` for the issuer's own test key
   * (the one {@link TestIssuer.createDpopProof} signs with), or any {@link DpopKey}.
   */
  dpop?: boolean | DpopKey | undefined;
  /** Lifetime in seconds, from `iat`. Default `300`. Ignored when the claims give `exp`. */
  expiresInSeconds?: number | undefined;
  /** The JWS `typ`. Default `at+jwt` (RFC 9068); `null` leaves it out. */
  typ?: string | null | undefined;
  /** Extra JWS header members (e.g. a `kid` the key set does not have). */
  header?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * An authorization server that lives in memory, for a service's own tests: it signs RFC 9068
 * access tokens and serves its discovery document and key set through {@link TestIssuer.fetch},
 * so a resource server under test needs no network.
 */
export interface TestIssuer {
  /** The issuer identifier. */
  readonly issuer: string;
  /** Where the key set is published (served by {@link TestIssuer.fetch}). */
  readonly jwksUri: string;
  /**
   * A `fetch` that answers the RFC 8414 and OpenID discovery URLs and the key set, and 404 to
   * everything else. Give it to `createResourceServer({ fetch })`.
   */
  readonly fetch: FetchLike;
  /** How many requests {@link TestIssuer.fetch} has answered, by path. */
  readonly requests: ReadonlyMap<string, number>;
  /** The public key set, as served. */
  jwks(): { keys: TestIssuerJwk[] };
  /**
   * A signed access token. Claims default to `iss`, `aud`, `sub` and `client_id`
   * (`test-client`), `iat`, `exp`, `jti`; a claim given as `undefined` is left out, so tests
   * can mint tokens that miss one.
   */
  mintAccessToken(
    claims?: Readonly<Record<string, unknown>>,
    options?: MintOptions,
  ): Promise<string>;
  /**
   * A DPoP proof (RFC 9449 §4.2) signed with the issuer's own test DPoP key, the key that
   * `mintAccessToken(claims, { dpop: true })` binds tokens to.
   */
  createDpopProof(options: DpopProofOptions): Promise<string>;
  /** The issuer's test DPoP key, for proofs with other clocks or by hand. */
  readonly dpopKey: DpopKey;
  /** Replaces the signing key with a new one (a key rotation): new tokens get a new `kid`. */
  rotateKey(): Promise<void>;
}

/** A public key as the test issuer's key set serves it. */
export type TestIssuerJwk = PublicJwk & { kid: string; alg: TestIssuerAlgorithm; use: 'sig' };

interface SigningState {
  alg: TestIssuerAlgorithm;
  kid: string;
  privateKey: CryptoKey;
  jwk: TestIssuerJwk;
}

const generateParams: Record<
  TestIssuerAlgorithm,
  EcKeyGenParams | RsaHashedKeyGenParams | Algorithm
> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
  PS256: {
    name: 'RSA-PSS',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
  EdDSA: { name: 'Ed25519' },
};

async function newSigningKey(alg: TestIssuerAlgorithm): Promise<SigningState> {
  const pair = (await crypto.subtle.generateKey(generateParams[alg], false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const jwk = await publicJwkOf(pair.publicKey);
  const kid = (await thumbprintOf(jwk)).slice(0, 16);
  return { alg, kid, privateKey: pair.privateKey, jwk: { ...jwk, kid, alg, use: 'sig' } };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/**
 * Makes an in-memory issuer for testing a resource server (or middleware) without a network.
 *
 * @example
 * ```ts
 * import { createResourceServer } from 's2s-auth/server';
 * import { createTestIssuer } from 's2s-auth/testing';
 *
 * const idp = await createTestIssuer({ audience: 'https://orders.test' });
 * const server = createResourceServer({ issuer: idp.issuer, audience: 'https://orders.test', fetch: idp.fetch });
 * const token = await idp.mintAccessToken({ scope: 'orders:read' });
 * const claims = await server.verifyToken(token);
 * ```
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  rejectUnknownOptions(options, TEST_ISSUER_OPTION_KEYS, 'createTestIssuer');
  const issuer = options.issuer ?? 'https://issuer.test';
  let base: URL;
  try {
    base = new URL(issuer);
  } catch {
    throw new TypeError('createTestIssuer: `issuer` must be an absolute URL');
  }
  const audience = options.audience ?? 'https://api.test';
  const alg = options.alg ?? 'ES256';
  if (!(alg in generateParams))
    throw new TypeError(
      `createTestIssuer: \`alg\` must be one of ${Object.keys(generateParams).join(', ')}`,
    );
  const now = resolveClock(options.now, 'createTestIssuer');
  const path = base.pathname.replace(/\/$/, '');
  const jwksUri = `${base.origin}${path}/jwks`;
  const metadata = {
    issuer,
    jwks_uri: jwksUri,
    token_endpoint: `${base.origin}${path}/token`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
    dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
  };
  const documents = new Map<string, () => unknown>([
    [`${base.origin}/.well-known/oauth-authorization-server${path}`, () => metadata],
    [`${base.origin}${path}/.well-known/openid-configuration`, () => metadata],
    [jwksUri, () => ({ keys: [signing.jwk] })],
  ]);

  let signing = await newSigningKey(alg);
  const dpopKey = createDpopKey(true, { now });
  const requests = new Map<string, number>();

  const fetch: FetchLike = (input, init) => {
    let request: Request;
    try {
      request = new Request(input, init);
    } catch (error) {
      return Promise.reject(error);
    }
    const url = new URL(request.url);
    const key = `${url.origin}${url.pathname}`;
    requests.set(url.pathname, (requests.get(url.pathname) ?? 0) + 1);
    const document = request.method === 'GET' ? documents.get(key) : undefined;
    return Promise.resolve(document ? json(document()) : json({ error: 'not_found' }, 404));
  };

  async function mintAccessToken(
    claims: Readonly<Record<string, unknown>> = {},
    mint: MintOptions = {},
  ): Promise<string> {
    rejectUnknownOptions(mint, MINT_OPTION_KEYS, 'mintAccessToken');
    const iat = epochSeconds(now);
    const defaults: Record<string, unknown> = {
      iss: issuer,
      aud: audience,
      sub: 'test-client',
      client_id: 'test-client',
      iat,
      exp: iat + (mint.expiresInSeconds ?? 300),
      jti: randomBase64url(16),
    };
    if (mint.dpop) {
      const bound = mint.dpop === true ? dpopKey : mint.dpop;
      defaults.cnf = { jkt: await bound.thumbprint() };
    }
    const payload: Record<string, unknown> = {};
    for (const [name, value] of Object.entries({ ...defaults, ...claims })) {
      if (value !== undefined) payload[name] = value;
    }
    const header: Record<string, unknown> = { alg: signing.alg, kid: signing.kid };
    if (mint.typ !== null) header.typ = mint.typ ?? 'at+jwt';
    Object.assign(header, mint.header);
    return signCompact(
      signing.alg,
      signing.privateKey,
      encodeBase64url(JSON.stringify(header)),
      payload,
    );
  }

  return {
    issuer,
    jwksUri,
    fetch,
    requests,
    dpopKey,
    jwks: () => ({ keys: [signing.jwk] }),
    mintAccessToken,
    createDpopProof: (proof) => dpopKey.buildDpopProof(proof),
    async rotateKey() {
      signing = await newSigningKey(alg);
    },
  };
}
