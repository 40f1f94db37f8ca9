/**
 * createAuthClient against a real authorization server (oidc-provider on 127.0.0.1): endpoint
 * discovery, client authentication, scopes and resources, the token cache, DPoP and the
 * authorised fetch. Every contract line of the client has a test here; failures are in
 * errors.test.ts.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
} from 'jose';
import {
  createAuthClient,
  OAuthError,
  ProtocolError,
  type AuthClientOptions,
  type FetchLike,
} from '../../src/index.js';
import { manualClock } from '../support/clock.js';
import { accessTokenHash, confirmationThumbprint, verifyDpopProof } from '../support/dpop.js';
import {
  recordingFetch,
  sendJson,
  startProxy,
  startServer,
  type TestServer,
} from '../support/http.js';
import { basicAuthorization, CLIENTS, RESOURCES, startIdp, type TestIdp } from '../support/idp.js';

let idp: TestIdp;
let api: TestServer;

beforeAll(async () => {
  idp = await startIdp();
  api = await startServer((_request, response) => sendJson(response, 200, { ok: true }));
});

afterAll(async () => {
  await Promise.all([idp.close(), api.close()]);
});

const tokenRequests = () => idp.count('/token', 'POST');
const discoveryRequests = () =>
  idp.count('/.well-known/oauth-authorization-server') +
  idp.count('/.well-known/openid-configuration');

/** Options of the Basic client; override any of them. */
function basic(overrides: Partial<AuthClientOptions> = {}): AuthClientOptions {
  return {
    issuer: idp.issuer,
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    ...overrides,
  };
}

function lastTokenRequest() {
  const request = idp.requests.filter((r) => r.path === '/token' && r.method === 'POST').at(-1);
  if (!request) throw new Error('the IdP saw no token request');
  return request;
}

async function verifyAccessToken(token: string, audience: string) {
  return jwtVerify(token, createLocalJWKSet(idp.jwks), {
    issuer: idp.issuer,
    audience,
    typ: 'at+jwt',
  });
}

function scopeSet(scope: string | null | undefined): string[] {
  return (scope ?? '').split(' ').filter(Boolean).sort();
}

describe('endpoint discovery', () => {
  it('reads the token endpoint from the RFC 8414 document', async () => {
    const recorder = recordingFetch();
    const client = createAuthClient(basic({ fetch: recorder.fetch }));
    const token = await client.getToken();
    expect(token.access_token).toEqual(expect.any(String));
    expect(recorder.sent.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${idp.issuer}/.well-known/oauth-authorization-server`,
      `POST ${idp.endpoints.token}`,
    ]);
  });

  it('falls back to the OpenID configuration when there is no RFC 8414 document', async () => {
    const proxy = await startProxy(idp.issuer, {
      rewriteOrigin: true,
      intercept(request, response) {
        if (!request.path.startsWith('/.well-known/oauth-authorization-server')) return false;
        sendJson(response, 404, { error: 'not_found' });
        return true;
      },
    });
    try {
      const client = createAuthClient(basic({ issuer: proxy.origin }));
      const token = await client.getToken();
      expect(token.token_type).toBe('Bearer');
      expect(proxy.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /.well-known/oauth-authorization-server',
        'GET /.well-known/openid-configuration',
        'POST /token',
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('rejects a discovery document for another issuer with a ProtocolError and sends no credentials', async () => {
    // The proxy forwards the IdP's document unchanged: it names the IdP, not the proxy.
    const proxy = await startProxy(idp.issuer);
    try {
      const client = createAuthClient(basic({ issuer: proxy.origin }));
      const error = await client.getToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(proxy.requests.some((r) => r.path === '/token')).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('skips discovery when tokenEndpoint is given, with or without an issuer', async () => {
    const before = discoveryRequests();
    const withoutIssuer = createAuthClient({
      tokenEndpoint: idp.endpoints.token,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
    });
    const withIssuer = createAuthClient(basic({ tokenEndpoint: idp.endpoints.token }));
    await withoutIssuer.getToken();
    await withIssuer.getToken();
    expect(discoveryRequests()).toBe(before);
  });

  it('discovers once per instance, however many tokens it fetches', async () => {
    const before = discoveryRequests();
    const client = createAuthClient(basic());
    await client.getToken({ scope: 'orders:read' });
    await client.getToken({ scope: 'orders:write' });
    await client.getToken({ scope: 'inventory:read', resource: RESOURCES.es256 });
    expect(discoveryRequests()).toBe(before + 1);
    const other = createAuthClient(basic());
    await other.getToken();
    expect(discoveryRequests()).toBe(before + 2);
  });
});

describe('client authentication', () => {
  it('sends client_secret_basic credentials form-encoded per RFC 6749 §2.3.1', async () => {
    const recorder = recordingFetch();
    const client = createAuthClient(
      basic({ clientAuth: 'client_secret_basic', fetch: recorder.fetch }),
    );
    const token = await client.getToken();
    expect(token.token_type).toBe('Bearer');
    // The secret holds % : + space & = / and the client id a colon: sent raw, the IdP refuses it.
    expect(lastTokenRequest().headers.authorization).toBe(
      basicAuthorization(CLIENTS.basic.clientId, CLIENTS.basic.clientSecret),
    );
    const [form] = recorder.forms('/token');
    expect(form?.get('grant_type')).toBe('client_credentials');
    expect(form?.has('client_secret')).toBe(false);
  });

  it('uses client_secret_basic when clientAuth is not given', async () => {
    const client = createAuthClient(basic());
    await client.getToken();
    expect(lastTokenRequest().headers.authorization).toMatch(/^Basic /);
  });

  it('sends client_secret_post credentials in the form body and no Authorization header', async () => {
    const recorder = recordingFetch();
    const client = createAuthClient({
      issuer: idp.issuer,
      clientId: CLIENTS.post.clientId,
      clientSecret: CLIENTS.post.clientSecret,
      clientAuth: 'client_secret_post',
      fetch: recorder.fetch,
    });
    const token = await client.getToken();
    expect(token.access_token).toEqual(expect.any(String));
    expect(lastTokenRequest().headers.authorization).toBeUndefined();
    const [form] = recorder.forms('/token');
    expect(form?.get('client_id')).toBe(CLIENTS.post.clientId);
    expect(form?.get('client_secret')).toBe(CLIENTS.post.clientSecret);
  });

  it('authenticates with private_key_jwt using a private JWK', async () => {
    const recorder = recordingFetch();
    const { clientId, privateJwk, publicJwk } = CLIENTS.privateKeyJwt;
    const client = createAuthClient({
      issuer: idp.issuer,
      clientId,
      clientAuth: 'private_key_jwt',
      privateKey: privateJwk,
      fetch: recorder.fetch,
    });
    const token = await client.getToken();
    expect(token.access_token).toEqual(expect.any(String));
    expect(lastTokenRequest().headers.authorization).toBeUndefined();

    const [form] = recorder.forms('/token');
    expect(form?.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    expect(form?.has('client_secret')).toBe(false);
    const assertion = form?.get('client_assertion') ?? '';
    const { payload, protectedHeader } = await jwtVerify(
      assertion,
      await importJWK(publicJwk, 'ES256'),
      {
        issuer: clientId,
        subject: clientId,
      },
    );
    expect(protectedHeader.alg).toBe('ES256');
    expect([idp.issuer, idp.endpoints.token]).toContain(payload.aud);
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.exp).toBeGreaterThan(payload.iat ?? Number.POSITIVE_INFINITY);
  });

  it('authenticates with private_key_jwt using a non-extractable CryptoKey', async () => {
    const recorder = recordingFetch();
    const { clientId, privateKey, publicJwk } = CLIENTS.privateKeyJwt;
    expect(privateKey.extractable).toBe(false);
    const client = createAuthClient({
      issuer: idp.issuer,
      clientId,
      clientAuth: 'private_key_jwt',
      privateKey,
      fetch: recorder.fetch,
    });
    await client.getToken();
    const assertion = recorder.forms('/token')[0]?.get('client_assertion') ?? '';
    const { payload, protectedHeader } = await jwtVerify(
      assertion,
      await importJWK(publicJwk, 'ES256'),
      { issuer: clientId, subject: clientId },
    );
    expect(protectedHeader.alg).toBe('ES256');
    expect([idp.issuer, idp.endpoints.token]).toContain(payload.aud);
    expect(payload.jti).toEqual(expect.any(String));
  });

  it('authenticates with private_key_jwt using an RSA key (RS256)', async () => {
    const recorder = recordingFetch();
    const { clientId, privateJwk } = CLIENTS.privateKeyJwtRsa;
    const client = createAuthClient({
      issuer: idp.issuer,
      clientId,
      clientAuth: 'private_key_jwt',
      privateKey: privateJwk,
      fetch: recorder.fetch,
    });
    await client.getToken();
    const assertion = recorder.forms('/token')[0]?.get('client_assertion') ?? '';
    expect(decodeProtectedHeader(assertion).alg).toBe('RS256');
  });

  it('signs a new assertion (new jti) for every token request', async () => {
    const recorder = recordingFetch();
    const client = createAuthClient({
      issuer: idp.issuer,
      clientId: CLIENTS.privateKeyJwt.clientId,
      clientAuth: 'private_key_jwt',
      privateKey: CLIENTS.privateKeyJwt.privateJwk,
      fetch: recorder.fetch,
    });
    await client.getToken();
    // The IdP refuses a replayed assertion, so this succeeding already says the jti is new.
    await client.getToken({ forceRefresh: true });
    const jtis = recorder
      .forms('/token')
      .map((form) => decodeJwt(form.get('client_assertion') ?? '').jti);
    expect(jtis).toHaveLength(2);
    expect(jtis[0]).not.toBe(jtis[1]);
  });
});

describe('scopes and resources', () => {
  it('returns the token fields with expires_at on the client clock', async () => {
    const clock = manualClock(new Date('2031-03-04T05:06:07Z'));
    const client = createAuthClient(basic({ scope: 'orders:read', now: clock.now }));
    const token = await client.getToken();
    expect(token).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 300,
      expires_at: clock.seconds() + 300,
      scope: 'orders:read',
    });
  });

  it('asks for the default scope and resource of the client', async () => {
    const recorder = recordingFetch();
    const client = createAuthClient(
      basic({ scope: 'inventory:read', resource: RESOURCES.es256, fetch: recorder.fetch }),
    );
    const token = await client.getToken();
    const [form] = recorder.forms('/token');
    expect(scopeSet(form?.get('scope'))).toEqual(['inventory:read']);
    expect(form?.getAll('resource')).toEqual([RESOURCES.es256]);
    const { payload, protectedHeader } = await verifyAccessToken(
      token.access_token,
      RESOURCES.es256,
    );
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.scope).toBe('inventory:read');
    expect(token.scope).toBe('inventory:read');
  });

  it('sends neither scope nor resource when the client has no defaults', async () => {
    const recorder = recordingFetch();
    const client = createAuthClient(basic({ fetch: recorder.fetch }));
    await client.getToken();
    const [form] = recorder.forms('/token');
    expect(form?.has('scope')).toBe(false);
    expect(form?.has('resource')).toBe(false);
  });

  it('lets one call ask for other scopes and another resource', async () => {
    const recorder = recordingFetch();
    const client = createAuthClient(
      basic({ scope: 'orders:read', resource: RESOURCES.jwt, fetch: recorder.fetch }),
    );
    const token = await client.getToken({ scope: 'billing:read', resource: RESOURCES.eddsa });
    const { payload } = await verifyAccessToken(token.access_token, RESOURCES.eddsa);
    expect(payload.aud).toBe(RESOURCES.eddsa);
    expect(payload.scope).toBe('billing:read');
    const [form] = recorder.forms('/token');
    expect(scopeSet(form?.get('scope'))).toEqual(['billing:read']);
    expect(form?.getAll('resource')).toEqual([RESOURCES.eddsa]);
  });

  it('keeps the default resource when a call overrides only the scope, and vice versa', async () => {
    const recorder = recordingFetch();
    const client = createAuthClient(
      basic({ scope: 'orders:read', resource: RESOURCES.jwt, fetch: recorder.fetch }),
    );
    await client.getToken({ scope: 'orders:write' });
    await client.getToken({ resource: RESOURCES.opaque });
    const [scopeOnly, resourceOnly] = recorder.forms('/token');
    expect(scopeSet(scopeOnly?.get('scope'))).toEqual(['orders:write']);
    expect(scopeOnly?.getAll('resource')).toEqual([RESOURCES.jwt]);
    expect(scopeSet(resourceOnly?.get('scope'))).toEqual(['orders:read']);
    expect(resourceOnly?.getAll('resource')).toEqual([RESOURCES.opaque]);
  });

  it('takes scopes as a string or a list and sends them space-separated', async () => {
    const recorder = recordingFetch();
    const client = createAuthClient(
      basic({ scope: ['orders:read', 'orders:write'], fetch: recorder.fetch }),
    );
    const token = await client.getToken();
    expect(scopeSet(recorder.forms('/token')[0]?.get('scope'))).toEqual([
      'orders:read',
      'orders:write',
    ]);
    expect(scopeSet(token.scope)).toEqual(['orders:read', 'orders:write']);
  });

  it('sends each resource indicator as its own resource parameter (RFC 8707 §2)', async () => {
    const recorder = recordingFetch();
    const client = createAuthClient(
      basic({ resource: [RESOURCES.jwt, RESOURCES.es256], fetch: recorder.fetch }),
    );
    // This IdP allows one resource per client_credentials request and says so.
    const error = await client.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_target', status: 400 });
    expect(recorder.forms('/token')[0]?.getAll('resource').sort()).toEqual(
      [RESOURCES.es256, RESOURCES.jwt].sort(),
    );
  });
});

describe('the token cache', () => {
  it("serves 'a b' and ['b', 'a'] (and duplicates) from one slot", async () => {
    const client = createAuthClient(basic());
    const before = tokenRequests();
    const first = await client.getToken({ scope: 'orders:read orders:write' });
    const second = await client.getToken({ scope: ['orders:write', 'orders:read'] });
    const third = await client.getToken({ scope: 'orders:write orders:read orders:write' });
    expect(tokenRequests()).toBe(before + 1);
    expect(second.access_token).toBe(first.access_token);
    expect(third.access_token).toBe(first.access_token);
  });

  it('serves a resource given as a string or as a list from one slot', async () => {
    const client = createAuthClient(basic({ scope: 'inventory:read' }));
    const before = tokenRequests();
    const first = await client.getToken({ resource: RESOURCES.es256 });
    const second = await client.getToken({ resource: [RESOURCES.es256, RESOURCES.es256] });
    expect(tokenRequests()).toBe(before + 1);
    expect(second.access_token).toBe(first.access_token);
  });

  it('caches the defaults and an explicit request for the same scopes in one slot', async () => {
    const client = createAuthClient(basic({ scope: 'orders:read', resource: RESOURCES.jwt }));
    const before = tokenRequests();
    const first = await client.getToken();
    const second = await client.getToken({ scope: ['orders:read'], resource: RESOURCES.jwt });
    expect(tokenRequests()).toBe(before + 1);
    expect(second.access_token).toBe(first.access_token);
  });

  it('caches different scopes independently', async () => {
    const client = createAuthClient(basic());
    const before = tokenRequests();
    const read = await client.getToken({ scope: 'orders:read' });
    const write = await client.getToken({ scope: 'orders:write' });
    expect(tokenRequests()).toBe(before + 2);
    expect(write.access_token).not.toBe(read.access_token);
    expect((await client.getToken({ scope: 'orders:read' })).access_token).toBe(read.access_token);
    expect((await client.getToken({ scope: 'orders:write' })).access_token).toBe(
      write.access_token,
    );
    expect(tokenRequests()).toBe(before + 2);
  });

  it('caches different resources independently', async () => {
    const client = createAuthClient(basic());
    const before = tokenRequests();
    const orders = await client.getToken({ resource: RESOURCES.jwt });
    const inventory = await client.getToken({ resource: RESOURCES.es256 });
    expect(tokenRequests()).toBe(before + 2);
    expect(decodeJwt(orders.access_token).aud).toBe(RESOURCES.jwt);
    expect(decodeJwt(inventory.access_token).aud).toBe(RESOURCES.es256);
    expect((await client.getToken({ resource: RESOURCES.jwt })).access_token).toBe(
      orders.access_token,
    );
    expect((await client.getToken({ resource: RESOURCES.es256 })).access_token).toBe(
      inventory.access_token,
    );
    expect(tokenRequests()).toBe(before + 2);
  });

  it('returns the cached token until refreshSkewSeconds (default 30) before expiry, then refreshes', async () => {
    const clock = manualClock(new Date('2031-01-01T00:00:00Z'));
    const client = createAuthClient(basic({ now: clock.now }));
    const first = await client.getToken();
    const expiresAt = first.expires_at ?? Number.NaN;
    expect(expiresAt).toBe(clock.seconds() + 300);
    const before = tokenRequests();

    clock.setSeconds(expiresAt - 31);
    expect((await client.getToken()).access_token).toBe(first.access_token);
    expect(tokenRequests()).toBe(before);

    clock.setSeconds(expiresAt - 30);
    const second = await client.getToken();
    expect(second.access_token).not.toBe(first.access_token);
    expect(tokenRequests()).toBe(before + 1);
    expect(second.expires_at).toBe(expiresAt - 30 + 300);
  });

  it('honours a custom refreshSkewSeconds', async () => {
    const clock = manualClock(new Date('2031-01-01T00:00:00Z'));
    const client = createAuthClient(basic({ now: clock.now, refreshSkewSeconds: 120 }));
    const first = await client.getToken();
    const expiresAt = first.expires_at ?? Number.NaN;
    const before = tokenRequests();
    clock.setSeconds(expiresAt - 121);
    expect((await client.getToken()).access_token).toBe(first.access_token);
    expect(tokenRequests()).toBe(before);
    clock.setSeconds(expiresAt - 120);
    expect((await client.getToken()).access_token).not.toBe(first.access_token);
    expect(tokenRequests()).toBe(before + 1);
  });

  it('sends one token request for many concurrent callers of the same key (single flight)', async () => {
    const client = createAuthClient(basic());
    const before = tokenRequests();
    const tokens = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        client.getToken({
          scope: i % 2 === 0 ? 'orders:read orders:write' : ['orders:write', 'orders:read'],
        }),
      ),
    );
    expect(tokenRequests()).toBe(before + 1);
    expect(new Set(tokens.map((t) => t.access_token)).size).toBe(1);
  });

  it('does not share a request between concurrent callers of different keys', async () => {
    const client = createAuthClient(basic());
    const before = tokenRequests();
    const [read, write] = await Promise.all([
      client.getToken({ scope: 'orders:read' }),
      client.getToken({ scope: 'orders:write' }),
    ]);
    expect(tokenRequests()).toBe(before + 2);
    expect(read.scope).toBe('orders:read');
    expect(write.scope).toBe('orders:write');
  });

  it('does not cache a failed request: every waiter sees the error, the next call tries again', async () => {
    let failures = 1;
    let tokenCalls = 0;
    const flaky: FetchLike = async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname === '/token') {
        tokenCalls++;
        if (failures-- > 0) {
          return new Response(JSON.stringify({ error: 'temporarily_unavailable' }), {
            status: 503,
            headers: { 'content-type': 'application/json' },
          });
        }
      }
      return fetch(request);
    };
    // Retries would hide the failure this test is about; they have tests of their own.
    const client = createAuthClient(basic({ fetch: flaky, retry: false }));
    const outcomes = await Promise.allSettled([
      client.getToken(),
      client.getToken(),
      client.getToken(),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = outcome.status === 'rejected' ? (outcome.reason as unknown) : undefined;
      expect(reason).toBeInstanceOf(OAuthError);
      expect(reason).toMatchObject({ code: 'temporarily_unavailable', status: 503 });
    }
    expect(tokenCalls).toBe(1);
    const token = await client.getToken();
    expect(token.access_token).toEqual(expect.any(String));
    expect(tokenCalls).toBe(2);
  });

  it('forceRefresh fetches a new token and replaces the cached one', async () => {
    const client = createAuthClient(basic());
    const first = await client.getToken({ scope: 'orders:read' });
    const other = await client.getToken({ scope: 'orders:write' });
    const before = tokenRequests();
    const forced = await client.getToken({ scope: 'orders:read', forceRefresh: true });
    expect(tokenRequests()).toBe(before + 1);
    expect(forced.access_token).not.toBe(first.access_token);
    expect((await client.getToken({ scope: 'orders:read' })).access_token).toBe(
      forced.access_token,
    );
    // Other slots are untouched.
    expect((await client.getToken({ scope: 'orders:write' })).access_token).toBe(
      other.access_token,
    );
    expect(tokenRequests()).toBe(before + 1);
  });

  it('clearCache drops every cached token', async () => {
    const client = createAuthClient(basic());
    const read = await client.getToken({ scope: 'orders:read' });
    const write = await client.getToken({ scope: 'orders:write' });
    const before = tokenRequests();
    client.clearCache();
    const readAgain = await client.getToken({ scope: 'orders:read' });
    const writeAgain = await client.getToken({ scope: 'orders:write' });
    expect(tokenRequests()).toBe(before + 2);
    expect(readAgain.access_token).not.toBe(read.access_token);
    expect(writeAgain.access_token).not.toBe(write.access_token);
  });

  it('getAccessToken returns the access_token of getToken, from the same cache', async () => {
    const client = createAuthClient(basic({ scope: 'orders:read' }));
    const token = await client.getToken();
    const before = tokenRequests();
    expect(await client.getAccessToken()).toBe(token.access_token);
    expect(tokenRequests()).toBe(before);
    const inventory = await client.getAccessToken({
      scope: 'inventory:read',
      resource: RESOURCES.es256,
    });
    expect(tokenRequests()).toBe(before + 1);
    expect(decodeJwt(inventory).aud).toBe(RESOURCES.es256);
    expect(
      (await client.getToken({ scope: 'inventory:read', resource: RESOURCES.es256 })).access_token,
    ).toBe(inventory);
    const forced = await client.getAccessToken({ forceRefresh: true });
    expect(forced).not.toBe(token.access_token);
    expect(tokenRequests()).toBe(before + 2);
  });

  it("reads token_type case-insensitively ('bearer' is 'Bearer')", async () => {
    const stub = await startServer((_request, response) =>
      sendJson(response, 200, {
        access_token: 'opaque-token-value',
        token_type: 'bearer',
        expires_in: 60,
      }),
    );
    try {
      const client = createAuthClient({
        tokenEndpoint: `${stub.origin}/token`,
        clientId: CLIENTS.basic.clientId,
        clientSecret: CLIENTS.basic.clientSecret,
      });
      expect(await client.getToken()).toMatchObject({
        access_token: 'opaque-token-value',
        token_type: 'Bearer',
      });
    } finally {
      await stub.close();
    }
  });
});

describe('DPoP', () => {
  it('binds the token to a per-instance Ed25519 key: the token request carries a valid proof', async () => {
    const client = createAuthClient(basic({ dpop: true, scope: 'orders:read' }));
    const token = await client.getToken();
    expect(token.token_type).toBe('DPoP');

    const proof = await verifyDpopProof(lastTokenRequest().headers.dpop);
    expect(proof.header.typ).toBe('dpop+jwt');
    expect(proof.header.alg).toMatch(/^(EdDSA|Ed25519)$/);
    expect(proof.header.jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(proof.header.jwk).not.toHaveProperty('d');
    expect(proof.payload).toMatchObject({ htm: 'POST', htu: idp.endpoints.token });
    expect(proof.payload.jti).toEqual(expect.any(String));
    expect(Math.abs((proof.payload.iat ?? 0) - Date.now() / 1000)).toBeLessThan(60);
    expect(proof.payload).not.toHaveProperty('ath');

    const { payload } = await verifyAccessToken(token.access_token, RESOURCES.jwt);
    expect((payload.cnf as { jkt?: string } | undefined)?.jkt).toBe(proof.jkt);
    expect(payload.cnf).toEqual({ jkt: await calculateJwkThumbprint(proof.header.jwk ?? {}) });
  });

  it('makes a different DPoP key for each instance and keeps it for the instance', async () => {
    const one = createAuthClient(basic({ dpop: true }));
    const two = createAuthClient(basic({ dpop: true }));
    const first = await one.getToken();
    const again = await one.getToken({ forceRefresh: true });
    const other = await two.getToken();
    expect(confirmationThumbprint(again.access_token)).toBe(
      confirmationThumbprint(first.access_token),
    );
    expect(confirmationThumbprint(other.access_token)).not.toBe(
      confirmationThumbprint(first.access_token),
    );
  });

  it('signs with a supplied CryptoKey pair (ES256)', async () => {
    const pair = await generateKeyPair('ES256');
    const client = createAuthClient(basic({ dpop: pair }));
    const token = await client.getToken();
    expect(token.token_type).toBe('DPoP');
    const expected = await calculateJwkThumbprint(await exportJWK(pair.publicKey));
    expect(confirmationThumbprint(token.access_token)).toBe(expected);
    const proof = await verifyDpopProof(lastTokenRequest().headers.dpop);
    expect(proof.header.alg).toBe('ES256');
    expect(proof.jkt).toBe(expected);
  });

  it('signs with a supplied { privateKey, publicKey } JWK pair', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const privateKey = await exportJWK(pair.privateKey);
    const publicKey = await exportJWK(pair.publicKey);
    const client = createAuthClient(basic({ dpop: { privateKey, publicKey } }));
    const token = await client.getToken();
    expect(token.token_type).toBe('DPoP');
    expect(confirmationThumbprint(token.access_token)).toBe(
      await calculateJwkThumbprint(publicKey),
    );
  });

  it('lets a DPoP-only client get a token', async () => {
    const client = createAuthClient({
      issuer: idp.issuer,
      clientId: CLIENTS.dpopOnly.clientId,
      clientSecret: CLIENTS.dpopOnly.clientSecret,
      dpop: true,
    });
    const token = await client.getToken();
    expect(token.token_type).toBe('DPoP');
    expect(confirmationThumbprint(token.access_token)).toEqual(expect.any(String));
  });

  it('retries a use_dpop_nonce token error only once, then throws the OAuthError', async () => {
    let issued = 0;
    const stub = await startServer((_request, response) =>
      sendJson(
        response,
        400,
        {
          error: 'use_dpop_nonce',
          error_description: 'Authorization server requires nonce in DPoP proof',
        },
        { 'dpop-nonce': `as-nonce-${++issued}` },
      ),
    );
    try {
      const client = createAuthClient({
        tokenEndpoint: `${stub.origin}/token`,
        clientId: CLIENTS.basic.clientId,
        clientSecret: CLIENTS.basic.clientSecret,
        dpop: true,
      });
      const error = await client.getToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ code: 'use_dpop_nonce', status: 400 });
      expect(stub.requests).toHaveLength(2);
      const [first, second] = await Promise.all(
        stub.requests.map((r) => verifyDpopProof(r.headers.dpop)),
      );
      expect(first?.payload).not.toHaveProperty('nonce');
      expect(second?.payload.nonce).toBe('as-nonce-1');
    } finally {
      await stub.close();
    }
  });

  it('buildDpopProof makes an RFC 9449 proof with ath and nonce, signed by the token key', async () => {
    const client = createAuthClient(basic({ dpop: true }));
    const token = await client.getToken();
    const proof = await client.buildDpopProof({
      htm: 'GET',
      htu: 'https://orders.example.test/orders/42?expand=items#lines',
      accessToken: token.access_token,
      nonce: 'server-nonce-1',
    });
    const verified = await verifyDpopProof(proof);
    expect(verified.header.typ).toBe('dpop+jwt');
    expect(verified.header.jwk).not.toHaveProperty('d');
    expect(verified.payload).toMatchObject({
      htm: 'GET',
      htu: 'https://orders.example.test/orders/42',
      ath: accessTokenHash(token.access_token),
      nonce: 'server-nonce-1',
    });
    expect(verified.payload.jti).toEqual(expect.any(String));
    expect(verified.payload.iat).toEqual(expect.any(Number));
    expect(verified.jkt).toBe(confirmationThumbprint(token.access_token));
  });

  it('buildDpopProof leaves out ath and nonce when not given and uses a new jti each time', async () => {
    const client = createAuthClient(basic({ dpop: true }));
    const one = await verifyDpopProof(
      await client.buildDpopProof({ htm: 'POST', htu: 'https://a.example.test/x' }),
    );
    const two = await verifyDpopProof(
      await client.buildDpopProof({ htm: 'POST', htu: 'https://a.example.test/x' }),
    );
    expect(one.payload).not.toHaveProperty('ath');
    expect(one.payload).not.toHaveProperty('nonce');
    expect(one.payload.jti).not.toBe(two.payload.jti);
    expect(one.jkt).toBe(two.jkt);
  });

  it('buildDpopProof takes iat from the injected clock', async () => {
    const clock = manualClock(new Date('2030-06-01T00:00:00Z'));
    const client = createAuthClient(basic({ dpop: true, now: clock.now }));
    const proof = await verifyDpopProof(
      await client.buildDpopProof({ htm: 'GET', htu: 'https://a.example.test/' }),
    );
    expect(proof.payload.iat).toBe(clock.seconds());
  });

  it('buildDpopProof throws a TypeError when DPoP is off', async () => {
    const client = createAuthClient(basic());
    await expect(
      client.buildDpopProof({ htm: 'GET', htu: 'https://a.example.test/' }),
    ).rejects.toThrow(TypeError);
    const explicit = createAuthClient(basic({ dpop: false }));
    await expect(
      explicit.buildDpopProof({ htm: 'GET', htu: 'https://a.example.test/' }),
    ).rejects.toThrow(TypeError);
  });

  it("retries a token request once with the server's DPoP-Nonce when the IdP requires nonces", async () => {
    const nonceIdp = await startIdp({ dpopNonce: true });
    try {
      const client = createAuthClient({
        issuer: nonceIdp.issuer,
        clientId: CLIENTS.basic.clientId,
        clientSecret: CLIENTS.basic.clientSecret,
        dpop: true,
      });
      const token = await client.getToken();
      expect(token.token_type).toBe('DPoP');
      const attempts = nonceIdp.requests.filter((r) => r.path === '/token');
      expect(attempts).toHaveLength(2);
      const [first, second] = await Promise.all(
        attempts.map((r) => verifyDpopProof(r.headers.dpop)),
      );
      expect(first?.payload).not.toHaveProperty('nonce');
      expect(second?.payload.nonce).toEqual(expect.any(String));
      expect(second?.jkt).toBe(first?.jkt);
      expect(second?.payload.jti).not.toBe(first?.payload.jti);
      expect(confirmationThumbprint(token.access_token)).toBe(second?.jkt);
    } finally {
      await nonceIdp.close();
    }
  });
});

describe('the authorised fetch', () => {
  function lastApiRequest() {
    const request = api.requests.at(-1);
    if (!request) throw new Error('the API saw no request');
    return request;
  }

  it('sends Authorization: Bearer <token> for a Bearer client and returns the response', async () => {
    api.handle((_request, response) => sendJson(response, 200, { orders: [42] }));
    const client = createAuthClient(basic({ scope: 'orders:read', resource: RESOURCES.jwt }));
    const response = await client.fetch(`${api.origin}/orders?status=open`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ orders: [42] });
    const token = await client.getAccessToken();
    expect(lastApiRequest().headers.authorization).toBe(`Bearer ${token}`);
    expect(lastApiRequest().headers.dpop).toBeUndefined();
    expect(lastApiRequest().url).toBe('/orders?status=open');
  });

  it('keeps the method, headers and body of the request', async () => {
    api.handle((_request, response) => sendJson(response, 201, { created: true }));
    const client = createAuthClient(basic({ scope: 'orders:write' }));
    const response = await client.fetch(new URL(`${api.origin}/orders`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'r-1' },
      body: JSON.stringify({ item: 'widget' }),
    });
    expect(response.status).toBe(201);
    expect(lastApiRequest()).toMatchObject({
      method: 'POST',
      body: '{"item":"widget"}',
      headers: expect.objectContaining({
        'content-type': 'application/json',
        'x-request-id': 'r-1',
      }),
    });
  });

  it('sends Authorization: DPoP <token> and a fresh proof with ath for a DPoP client', async () => {
    api.handle((_request, response) => sendJson(response, 200, {}));
    const client = createAuthClient(
      basic({ dpop: true, scope: 'orders:write', resource: RESOURCES.jwt }),
    );
    await client.fetch(`${api.origin}/orders/42?verbose=1#frag`, { method: 'PATCH', body: '{}' });
    await client.fetch(`${api.origin}/orders/42?verbose=1#frag`, { method: 'PATCH', body: '{}' });
    const token = await client.getAccessToken();
    const [first, second] = api.requests.slice(-2);
    expect(first?.headers.authorization).toBe(`DPoP ${token}`);
    const proof = await verifyDpopProof(first?.headers.dpop);
    expect(proof.payload).toMatchObject({
      htm: 'PATCH',
      htu: `${api.origin}/orders/42`,
      ath: accessTokenHash(token),
    });
    expect(proof.jkt).toBe(confirmationThumbprint(token));
    const next = await verifyDpopProof(second?.headers.dpop);
    expect(next.payload.jti).not.toBe(proof.payload.jti);
  });

  it('retries once with the nonce of a use_dpop_nonce challenge', async () => {
    api.handle((request, response) => {
      const proof = decodeJwt(String(request.headers.dpop));
      if (proof.nonce === 'rs-nonce-1') {
        sendJson(response, 200, { ok: true });
        return;
      }
      response.writeHead(401, {
        'www-authenticate':
          'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
        'dpop-nonce': 'rs-nonce-1',
      });
      response.end();
    });
    const client = createAuthClient(basic({ dpop: true }));
    const before = api.requests.length;
    const response = await client.fetch(`${api.origin}/ledger`, {
      method: 'POST',
      body: 'amount=5',
    });
    expect(response.status).toBe(200);
    const sent = api.requests.slice(before);
    expect(sent).toHaveLength(2);
    expect(decodeJwt(String(sent[0]?.headers.dpop))).not.toHaveProperty('nonce');
    expect(decodeJwt(String(sent[1]?.headers.dpop)).nonce).toBe('rs-nonce-1');
    expect(sent[1]?.body).toBe('amount=5');
  });

  it('does not retry a use_dpop_nonce challenge more than once', async () => {
    let issued = 0;
    api.handle((_request, response) => {
      response.writeHead(401, {
        'www-authenticate': 'DPoP error="use_dpop_nonce"',
        'dpop-nonce': `rs-nonce-${++issued}`,
      });
      response.end();
    });
    const client = createAuthClient(basic({ dpop: true }));
    const before = api.requests.length;
    const response = await client.fetch(`${api.origin}/ledger`);
    expect(response.status).toBe(401);
    expect(api.requests.length - before).toBe(2);
  });

  it('retries once with a force-refreshed token on a 401 invalid_token', async () => {
    let rejected = 0;
    api.handle((_request, response) => {
      if (rejected++ === 0) {
        response.writeHead(401, {
          'www-authenticate': 'Bearer error="invalid_token", error_description="revoked"',
        });
        return void response.end();
      }
      sendJson(response, 200, { ok: true });
    });
    const client = createAuthClient(basic({ scope: 'orders:read' }));
    const stale = await client.getAccessToken();
    const requestsBefore = api.requests.length;
    const tokensBefore = tokenRequests();
    const response = await client.fetch(`${api.origin}/orders`, { method: 'PUT', body: 'x=1' });
    expect(response.status).toBe(200);
    expect(tokenRequests()).toBe(tokensBefore + 1);
    const sent = api.requests.slice(requestsBefore);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.headers.authorization).toBe(`Bearer ${stale}`);
    const fresh = await client.getAccessToken();
    expect(fresh).not.toBe(stale);
    expect(sent[1]?.headers.authorization).toBe(`Bearer ${fresh}`);
    expect(sent[1]?.body).toBe('x=1');
    expect(tokenRequests()).toBe(tokensBefore + 1);
  });

  it('gives up after one refresh when the API keeps answering invalid_token', async () => {
    api.handle((_request, response) => {
      response.writeHead(401, { 'www-authenticate': 'DPoP error="invalid_token"' });
      response.end();
    });
    const client = createAuthClient(basic({ dpop: true }));
    await client.getToken();
    const requestsBefore = api.requests.length;
    const tokensBefore = tokenRequests();
    const response = await client.fetch(`${api.origin}/orders`);
    expect(response.status).toBe(401);
    expect(api.requests.length - requestsBefore).toBe(2);
    expect(tokenRequests()).toBe(tokensBefore + 1);
  });

  it('does not retry other 401 and 403 answers', async () => {
    api.handle((request, response) => {
      if (request.path === '/forbidden') {
        response.writeHead(403, {
          'www-authenticate': 'Bearer error="insufficient_scope", scope="orders:admin"',
        });
      } else {
        response.writeHead(401, { 'www-authenticate': 'Bearer realm="orders"' });
      }
      response.end();
    });
    const client = createAuthClient(basic());
    await client.getToken();
    const requestsBefore = api.requests.length;
    const tokensBefore = tokenRequests();
    expect((await client.fetch(`${api.origin}/forbidden`)).status).toBe(403);
    expect((await client.fetch(`${api.origin}/unauthorised`)).status).toBe(401);
    expect(api.requests.length - requestsBefore).toBe(2);
    expect(tokenRequests()).toBe(tokensBefore);
  });

  it('hashes the token it sent into ath (checked against SHA-256 independently)', async () => {
    api.handle((_request, response) => sendJson(response, 200, {}));
    const client = createAuthClient(basic({ dpop: true }));
    await client.fetch(`${api.origin}/orders`);
    const request = lastApiRequest();
    const sentToken = String(request.headers.authorization).replace(/^DPoP /, '');
    const { payload } = await verifyDpopProof(request.headers.dpop);
    expect(payload.ath).toBe(createHash('sha256').update(sentToken).digest('base64url'));
  });
});

describe('token answers the client must not use', () => {
  it('refuses a Bearer token that a hostile server on 127.0.0.1 answers to a DPoP token request', async () => {
    const hostile = await startServer((_request, response) =>
      sendJson(response, 200, {
        access_token: 'plain-bearer-token',
        token_type: 'Bearer',
        expires_in: 300,
      }),
    );
    try {
      const client = createAuthClient({
        tokenEndpoint: `${hostile.origin}/token`,
        clientId: CLIENTS.basic.clientId,
        clientSecret: CLIENTS.basic.clientSecret,
        dpop: true,
        retry: false,
      });
      const error = await client.getToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).cause).toEqual([
        expect.objectContaining({ path: 'token_type', code: 'dpop_required' }),
      ]);
      expect(hostile.requests[0]?.headers.dpop).toEqual(expect.any(String));
      // Nothing was cached, and the authorised fetch sends nothing to the API.
      const apiRequests = api.requests.length;
      await expect(client.fetch(`${api.origin}/orders`)).rejects.toBeInstanceOf(ProtocolError);
      expect(api.requests.length).toBe(apiRequests);
      expect(hostile.requests).toHaveLength(2);
    } finally {
      await hostile.close();
    }
  });

  it("refuses the real IdP's DPoP-bound token when something on the way downgrades it to Bearer", async () => {
    const downgrading: FetchLike = async (input, init) => {
      const response = await fetch(input, init);
      const body = (await response.json()) as Record<string, unknown>;
      if (body.token_type === 'DPoP') body.token_type = 'bearer';
      return new Response(JSON.stringify(body), {
        status: response.status,
        headers: response.headers,
      });
    };
    const before = tokenRequests();
    const client = createAuthClient(
      basic({ tokenEndpoint: idp.endpoints.token, dpop: true, fetch: downgrading, retry: false }),
    );
    const error = await client.getToken().catch((e: unknown) => e);
    expect(tokenRequests()).toBe(before + 1);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).cause).toEqual([
      expect.objectContaining({ path: 'token_type', code: 'dpop_required' }),
    ]);
  });

  it('refuses a token with a line break from a server on 127.0.0.1; auth.fetch sends nothing and leaks nothing', async () => {
    const accessToken = 'eyJhbGciOiJub25lIn0.e30.\r\nX-Injected: 1';
    const hostile = await startServer((_request, response) =>
      sendJson(response, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 300 }),
    );
    try {
      const client = createAuthClient({
        tokenEndpoint: `${hostile.origin}/token`,
        clientId: CLIENTS.basic.clientId,
        clientSecret: CLIENTS.basic.clientSecret,
        retry: false,
      });
      const apiRequests = api.requests.length;
      const error = await client.fetch(`${api.origin}/orders`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).cause).toEqual([
        expect.objectContaining({ path: 'access_token', code: 'invalid_characters' }),
      ]);
      expect(JSON.stringify(error)).not.toContain('X-Injected');
      expect((error as Error).message).not.toContain('X-Injected');
      expect(api.requests.length).toBe(apiRequests);
    } finally {
      await hostile.close();
    }
  });
});

describe('timers whose delay comes from the IdP', () => {
  /** Calls getToken as fast as the event loop allows for `ms` of real time. */
  async function hammer(client: ReturnType<typeof createAuthClient>, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await client.getToken();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('refreshes a 30-day token of the real IdP ahead once per life, not in a loop', async () => {
    const longLived = await startIdp({ accessTokenTTL: 30 * 24 * 3600 });
    try {
      const client = createAuthClient({
        issuer: longLived.issuer,
        clientId: CLIENTS.basic.clientId,
        clientSecret: CLIENTS.basic.clientSecret,
        refreshAhead: true,
      });
      expect((await client.getToken()).expires_in).toBe(30 * 24 * 3600);
      await hammer(client, 1000);
      client.close();
      expect(longLived.count('/token', 'POST')).toBe(1);
    } finally {
      await longLived.close();
    }
  });

  it('refreshes ahead once for expires_in: 2592000 from a server on 127.0.0.1', async () => {
    const stub = await startServer((_request, response) =>
      sendJson(response, 200, {
        access_token: 'long-lived',
        token_type: 'Bearer',
        expires_in: 2_592_000,
      }),
    );
    try {
      const client = createAuthClient({
        tokenEndpoint: `${stub.origin}/token`,
        clientId: CLIENTS.basic.clientId,
        clientSecret: CLIENTS.basic.clientSecret,
        refreshAhead: { refreshAheadSeconds: 60 },
      });
      await hammer(client, 1000);
      client.close();
      expect(stub.requests).toHaveLength(1);
    } finally {
      await stub.close();
    }
  });
});

describe('the authorised fetch: per call, and without retry storms', () => {
  it('gets the token for the scope and resource in init and keeps them out of the request', async () => {
    api.handle((_request, response) => sendJson(response, 200, {}));
    const recording = recordingFetch();
    const client = createAuthClient(basic({ fetch: recording.fetch, scope: 'orders:read' }));
    await client.fetch(`${api.origin}/stock`, {
      method: 'POST',
      body: 'sku=1',
      scope: 'inventory:read',
      resource: RESOURCES.es256,
    });
    const sent = api.requests.at(-1);
    const claims = decodeJwt(String(sent?.headers.authorization).replace(/^Bearer /, ''));
    expect(claims).toMatchObject({ aud: RESOURCES.es256, scope: 'inventory:read' });
    expect(sent?.body).toBe('sku=1');
    const form = recording.forms('/token').at(-1);
    expect(form?.get('scope')).toBe('inventory:read');
    expect(form?.getAll('resource')).toEqual([RESOURCES.es256]);
    // The client's defaults are a slot of their own.
    await client.fetch(`${api.origin}/orders`);
    expect(
      decodeJwt(String(api.requests.at(-1)?.headers.authorization).replace(/^Bearer /, '')),
    ).toMatchObject({
      aud: RESOURCES.jwt,
      scope: 'orders:read',
    });
  });

  it('makes at most 2 token requests for 5 calls to an API that refuses every token', async () => {
    api.handle((_request, response) => {
      response.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
      response.end();
    });
    const client = createAuthClient(basic());
    const tokensBefore = tokenRequests();
    const requestsBefore = api.requests.length;
    for (let i = 0; i < 5; i++)
      expect((await client.fetch(`${api.origin}/orders`)).status).toBe(401);
    expect(tokenRequests() - tokensBefore).toBe(2);
    expect(api.requests.length - requestsBefore).toBe(6);
  });
});
