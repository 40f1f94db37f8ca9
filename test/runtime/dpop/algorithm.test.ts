/**
 * The algorithm of the DPoP key `dpop: true` makes: one the authorization server lists in
 * `dpop_signing_alg_values_supported` (RFC 9449 §5.1), EdDSA when it lists it or nothing, and
 * `dpopAlgorithms` when discovery says nothing. A supplied key the server does not list is
 * refused before it signs a proof the server would refuse.
 */
import { exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createAuthClient,
  NetworkError,
  type AuthClientOptions,
  type FetchLike,
} from '../../../src/client.js';
import { generatedKeyCandidates } from '../../../src/runtime/dpop/algorithm.js';
import { verifyDpopProof } from '../../support/dpop.js';
import { fakeFetch, json, manualClock, type SeenRequest } from '../fake-fetch.js';

const issuer = 'https://idp.example.test';
const tokenEndpoint = `${issuer}/token`;

/** An IdP whose discovery document lists `algorithms` (nothing when `undefined`). */
function idp(
  algorithms: readonly string[] | undefined,
  token: (request: SeenRequest) => Response = () =>
    json({ access_token: 'bound', token_type: 'DPoP', expires_in: 300 }),
) {
  return fakeFetch((request) => {
    const { pathname } = new URL(request.url);
    if (pathname === '/.well-known/oauth-authorization-server') {
      return json({
        issuer,
        token_endpoint: tokenEndpoint,
        ...(algorithms === undefined ? {} : { dpop_signing_alg_values_supported: algorithms }),
      });
    }
    if (request.url === tokenEndpoint) return token(request);
    return json({}, 404);
  });
}

function client(fetch: FetchLike, extra: Partial<AuthClientOptions> = {}) {
  return createAuthClient({
    issuer,
    clientId: 'svc',
    clientSecret: 'client-secret',
    dpop: true,
    fetch,
    now: manualClock().now,
    retry: false,
    ...extra,
  });
}

const posts = (fetch: ReturnType<typeof fakeFetch>) =>
  fetch.seen.filter((request) => request.method === 'POST');

async function proofOf(fetch: ReturnType<typeof fakeFetch>) {
  return verifyDpopProof(posts(fetch)[0]?.headers.get('dpop') ?? undefined);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('generatedKeyCandidates', () => {
  it.each([
    ['nothing known', undefined, ['EdDSA']],
    ['an empty list', [], ['EdDSA']],
    ['EdDSA among others', ['RS256', 'ES256', 'EdDSA'], ['EdDSA', 'ES256', 'RS256']],
    ['only the fully specified Ed25519', ['Ed25519'], ['Ed25519']],
    ['RSA before EC, as Okta writes it', ['RS256', 'RS384', 'ES256'], ['ES256', 'RS256']],
    ['PS256 and RS256', ['RS256', 'PS256'], ['PS256', 'RS256']],
    ['only algorithms the client does not generate', ['ES256K', 'RS384', 'HS256'], []],
  ])('for %s: %j', (_, algorithms, expected) => {
    const accepted =
      algorithms === undefined
        ? undefined
        : { algorithms, source: 'dpop_signing_alg_values_supported' as const };
    expect(generatedKeyCandidates(accepted)).toEqual(expected);
  });
});

describe('dpop: true, the key made after discovery', () => {
  it.each([
    [['ES256', 'EdDSA'], 'EdDSA', { kty: 'OKP', crv: 'Ed25519' }],
    [['RS256', 'ES384', 'ES256'], 'ES256', { kty: 'EC', crv: 'P-256' }],
    [['ES384'], 'ES384', { kty: 'EC', crv: 'P-384' }],
    [['PS256'], 'PS256', { kty: 'RSA' }],
    [['RS256'], 'RS256', { kty: 'RSA' }],
  ])('signs with what %j allows: %s', async (algorithms, alg, jwk) => {
    const fetch = idp(algorithms);
    expect((await client(fetch).getToken()).token_type).toBe('DPoP');
    const proof = await proofOf(fetch);
    expect(proof.header.alg).toBe(alg);
    expect(proof.header.jwk).toMatchObject(jwk);
    expect(proof.header.jwk).not.toHaveProperty('d');
  });

  it('signs an Ed25519 key as alg Ed25519 when that is the name the server lists', async () => {
    const fetch = idp(['Ed25519', 'ES256']);
    await client(fetch).getToken();
    const proof = await proofOf(fetch);
    expect(proof.header.alg).toBe('Ed25519');
    expect(proof.header.jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
  });

  it('makes an EdDSA key when discovery lists nothing, as before', async () => {
    const fetch = idp(undefined);
    await client(fetch).getToken();
    expect((await proofOf(fetch)).header.alg).toBe('EdDSA');
  });

  it('refuses, naming the list, a server that lists nothing the client can make, and sends nothing', async () => {
    const fetch = idp(['ES256K', 'HS256']);
    const error = await client(fetch)
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'dpop' });
    expect((error as Error).message).toContain(
      "the authorization server's dpop_signing_alg_values_supported lists ES256K, HS256",
    );
    expect((error as Error).message).toContain('supply a key pair');
    expect(posts(fetch)).toHaveLength(0);
  });

  it('counts a key the server cannot take as a mistake to report, not an IdP failure to retry or trip the breaker on', async () => {
    const fetch = idp(['ES256K']);
    const auth = client(fetch, { circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 60_000 } });
    for (let call = 0; call < 2; call++) {
      const error = await auth.getToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ option: 'dpop' });
    }
  });

  it("shows only algorithm names of the server's list in the message", async () => {
    const fetch = idp(['ES256K', 'x\r\nInjected: yes', '<script>']);
    const error = await client(fetch)
      .getToken()
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain('lists ES256K and 2 more');
    expect((error as Error).message).not.toContain('Injected');
    expect((error as Error).message).not.toContain('<script>');
  });

  it("falls back to the next listed algorithm when this runtime's WebCrypto cannot make a key", async () => {
    const generateKey = crypto.subtle.generateKey.bind(crypto.subtle);
    vi.spyOn(crypto.subtle, 'generateKey').mockImplementation(((
      algorithm: EcKeyGenParams,
      extractable: boolean,
      usages: KeyUsage[],
    ) =>
      algorithm.namedCurve === 'P-521'
        ? Promise.reject(new DOMException('Unrecognized namedCurve', 'NotSupportedError'))
        : generateKey(algorithm, extractable, usages)) as typeof crypto.subtle.generateKey);
    const fetch = idp(['ES512', 'PS256']);
    await client(fetch).getToken();
    expect((await proofOf(fetch)).header.alg).toBe('PS256');
  });

  it('keeps one key for the instance: every proof after the first uses it', async () => {
    const fetch = idp(['ES256']);
    const auth = client(fetch);
    await auth.getToken();
    const proof = await verifyDpopProof(
      await auth.buildDpopProof({ htm: 'GET', htu: 'https://api.example.test/' }),
    );
    expect(proof.jkt).toBe((await proofOf(fetch)).jkt);
    expect(fetch.seen.filter((r) => r.method === 'GET')).toHaveLength(1);
  });
});

describe('buildDpopProof before any token', () => {
  it('reads discovery first and signs with a listed algorithm', async () => {
    const fetch = idp(['ES256']);
    const proof = await verifyDpopProof(
      await client(fetch).buildDpopProof({ htm: 'GET', htu: 'https://api.example.test/x' }),
    );
    expect(proof.header.alg).toBe('ES256');
    expect(fetch.seen.map((request) => new URL(request.url).pathname)).toEqual([
      '/.well-known/oauth-authorization-server',
    ]);
  });

  it('fails with the discovery error when discovery fails, and tries again on the next call', async () => {
    let down = true;
    const up = idp(['ES256']);
    const fetch: FetchLike = async (request) => {
      if (down)
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      return up(request);
    };
    const auth = client(fetch);
    const error = await auth
      .buildDpopProof({ htm: 'GET', htu: 'https://api.example.test/x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'refused' });
    down = false;
    const proof = await verifyDpopProof(
      await auth.buildDpopProof({ htm: 'GET', htu: 'https://api.example.test/x' }),
    );
    expect(proof.header.alg).toBe('ES256');
  });
});

describe('dpopAlgorithms', () => {
  it('chooses from dpopAlgorithms when discovery lists none', async () => {
    const fetch = idp(undefined);
    await client(fetch, { dpopAlgorithms: ['ES384'] }).getToken();
    expect((await proofOf(fetch)).header.alg).toBe('ES384');
  });

  it("gives way to discovery's list when there is one", async () => {
    const fetch = idp(['ES256']);
    await client(fetch, { dpopAlgorithms: ['ES384'] }).getToken();
    expect((await proofOf(fetch)).header.alg).toBe('ES256');
  });

  it('is what counts when tokenEndpoint is given, and no discovery is read', async () => {
    const fetch = idp(['ES256']);
    await client(fetch, { issuer: undefined, tokenEndpoint, dpopAlgorithms: ['PS256'] }).getToken();
    expect((await proofOf(fetch)).header.alg).toBe('PS256');
    expect(fetch.seen.every((request) => request.method === 'POST')).toBe(true);
  });

  it('refuses a supplied key it does not list, saying the list came from dpopAlgorithms', async () => {
    const fetch = idp(undefined);
    const pair = await generateKeyPair('ES384', { extractable: true });
    const error = await client(fetch, {
      dpop: { privateKey: pair.privateKey, publicKey: await exportJWK(pair.publicKey) },
      dpopAlgorithms: ['ES256'],
    })
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'dpop' });
    expect((error as Error).message).toContain('signs with ES384');
    expect((error as Error).message).toContain(
      "`dpopAlgorithms` (the option, or the profile's) lists ES256",
    );
    expect(posts(fetch)).toHaveLength(0);
  });

  it('takes a supplied key it lists', async () => {
    const fetch = idp(undefined);
    const pair = await generateKeyPair('ES384');
    await client(fetch, { dpop: pair, dpopAlgorithms: ['ES256', 'ES384'] }).getToken();
    expect((await proofOf(fetch)).header.alg).toBe('ES384');
  });

  it.each([
    ['an empty list', []],
    ['a string', 'ES256'],
    ['a list holding a number', [256]],
    ['a list holding an empty name', ['']],
  ])('refuses %s', (_, dpopAlgorithms) => {
    expect(() => client(idp(undefined), { dpopAlgorithms: dpopAlgorithms as string[] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'dpopAlgorithms' }),
    );
  });

  it('refuses dpopAlgorithms without dpop, where it would do nothing', () => {
    expect(() => client(idp(undefined), { dpop: false, dpopAlgorithms: ['ES256'] })).toThrow(
      expect.objectContaining({ name: 'TypeError', option: 'dpopAlgorithms' }),
    );
  });
});
