/**
 * createResourceServer against a real authorization server (oidc-provider on 127.0.0.1),
 * with tokens minted by the SDK's own client: Bearer and DPoP-bound tokens, an API that
 * answers with the server's challenges, key rotation, and a JWKS endpoint that goes away.
 */
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createDpopKey,
  createResourceServer,
  NetworkError,
  TokenError,
  type AuthClientOptions,
  type ResourceServer,
  type ResourceServerOptions,
} from '../../src/index.js';
import { manualClock } from '../support/clock.js';
import { startServer, type TestServer } from '../support/http.js';
import { CLIENTS, RESOURCES, generateSigningKeys, startIdp, type TestIdp } from '../support/idp.js';

let idp: TestIdp;

beforeAll(async () => {
  idp = await startIdp();
});

afterAll(async () => {
  await idp.close();
});

function client(overrides: Partial<AuthClientOptions> = {}) {
  return createAuthClient({
    issuer: idp.issuer,
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    scope: 'orders:read',
    resource: RESOURCES.jwt,
    ...overrides,
  });
}

function resourceServer(overrides: Partial<ResourceServerOptions> = {}): ResourceServer {
  return createResourceServer({ issuer: idp.issuer, audience: RESOURCES.jwt, ...overrides });
}

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TokenError);
  return error as TokenError;
}

/** An API on 127.0.0.1 guarded by `server.verifyRequest`, answering its challenges as a framework would. */
async function startApi(server: ResourceServer, requiredScopes?: string[]): Promise<TestServer> {
  let origin = '';
  const api = await startServer(async (request, response) => {
    try {
      const claims = await server.verifyRequest(
        { method: request.method, url: `${origin}${request.url}`, headers: request.headers },
        requiredScopes ? { requiredScopes } : undefined,
      );
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ client: claims.client_id, jkt: claims.cnf?.jkt ?? null }));
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      const headers: Record<string, string> = { 'www-authenticate': error.wwwAuthenticate };
      if (error.dpopNonce) headers['dpop-nonce'] = error.dpopNonce;
      response.writeHead(error.status, headers);
      response.end();
    }
  });
  origin = api.origin;
  return api;
}

describe('Bearer tokens from the SDK client', () => {
  it('verifies an RS256 JWT access token and returns its claims', async () => {
    const token = await client().getAccessToken();
    const claims = await resourceServer().verifyToken(token);
    expect(claims).toMatchObject({
      iss: idp.issuer,
      aud: RESOURCES.jwt,
      client_id: CLIENTS.basic.clientId,
    });
    expect(typeof claims.scope).toBe('string');
    expect((claims.scope as string).split(' ')).toContain('orders:read');
    expect(decodeProtectedHeader(token).typ).toBe('at+jwt');
  });

  it('verifies ES256 and EdDSA tokens for the resources that use them', async () => {
    for (const [resource, scope] of [
      [RESOURCES.es256, 'inventory:read'],
      [RESOURCES.eddsa, 'billing:read'],
    ] as const) {
      const token = await client({ resource, scope }).getAccessToken();
      await expect(
        resourceServer({ audience: resource }).verifyToken(token),
        resource,
      ).resolves.toMatchObject({
        aud: resource,
      });
    }
  });

  it('discovers the JWKS once and fetches it once for many verifications', async () => {
    const server = resourceServer();
    const token = await client().getAccessToken();
    idp.resetRequests();
    for (let i = 0; i < 5; i++) await server.verifyToken(token);
    expect(idp.count('/.well-known/oauth-authorization-server')).toBe(1);
    expect(idp.count('/jwks')).toBe(1);
  });

  it('refuses a token for another resource', async () => {
    const token = await client({
      resource: RESOURCES.es256,
      scope: 'inventory:read',
    }).getAccessToken();
    expect((await rejection(resourceServer().verifyToken(token))).reason).toBe('audience');
  });

  it('answers 403 insufficient_scope for a scope the token lacks', async () => {
    const token = await client().getAccessToken();
    const error = await rejection(
      resourceServer({ requiredScopes: ['orders:write'] }).verifyToken(token),
    );
    expect(error.status).toBe(403);
    expect(error.wwwAuthenticate).toContain('error="insufficient_scope"');
  });

  it('serves an API call made with the client authorised fetch', async () => {
    const api = await startApi(resourceServer(), ['orders:read']);
    try {
      const response = await client().fetch(`${api.origin}/orders/42`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ client: CLIENTS.basic.clientId, jkt: null });
      const anonymous = await fetch(`${api.origin}/orders/42`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer, DPoP algs="/);
    } finally {
      await api.close();
    }
  });
});

describe('DPoP-bound tokens from the SDK client', () => {
  const dpopClient = () =>
    client({
      clientId: CLIENTS.dpopOnly.clientId,
      clientSecret: CLIENTS.dpopOnly.clientSecret,
      dpop: true,
    });

  it('verifies a DPoP request built with the client proof', async () => {
    const auth = dpopClient();
    const token = await auth.getToken();
    expect(token.token_type).toBe('DPoP');
    const url = 'https://orders.example.test/orders/42';
    const proof = await auth.buildDpopProof({
      htm: 'GET',
      htu: url,
      accessToken: token.access_token,
    });
    const claims = await resourceServer().verifyRequest(
      new Request(url, { headers: { authorization: `DPoP ${token.access_token}`, dpop: proof } }),
    );
    expect(claims.cnf?.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('verifies a proof that createDpopKey signs with the key the token is bound to', async () => {
    const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const token = await client({
      clientId: CLIENTS.dpopOnly.clientId,
      clientSecret: CLIENTS.dpopOnly.clientSecret,
      dpop: pair,
    }).getAccessToken();
    const key = createDpopKey(pair);
    const url = 'https://orders.example.test/orders/7';
    const proof = await key.buildDpopProof({ htm: 'PUT', htu: url, accessToken: token });
    const claims = await resourceServer().verifyRequest(
      new Request(url, {
        method: 'PUT',
        headers: { authorization: `DPoP ${token}`, dpop: proof },
      }),
    );
    expect(claims.cnf?.jkt).toBe(await key.thumbprint());
    // A key of its own signs a valid proof, but not one for this token.
    const stranger = createDpopKey();
    const foreign = await stranger.buildDpopProof({ htm: 'PUT', htu: url, accessToken: token });
    const error = await rejection(
      resourceServer().verifyRequest(
        new Request(url, {
          method: 'PUT',
          headers: { authorization: `DPoP ${token}`, dpop: foreign },
        }),
      ),
    );
    expect(error.reason).toMatch(/^dpop/);
  });

  it('refuses the same token presented as Bearer', async () => {
    const token = await dpopClient().getAccessToken();
    const error = await rejection(
      resourceServer().verifyRequest(
        new Request('https://orders.example.test/', {
          headers: { authorization: `Bearer ${token}` },
        }),
      ),
    );
    expect(error.reason).toBe('dpop');
  });

  it('refuses a proof replayed against the same server', async () => {
    const auth = dpopClient();
    const server = resourceServer();
    const token = await auth.getAccessToken();
    const url = 'https://orders.example.test/orders';
    const proof = await auth.buildDpopProof({ htm: 'POST', htu: url, accessToken: token });
    const request = () =>
      new Request(url, {
        method: 'POST',
        headers: { authorization: `DPoP ${token}`, dpop: proof },
      });
    await server.verifyRequest(request());
    expect((await rejection(server.verifyRequest(request()))).reason).toBe('dpop_replay');
  });

  it('serves an API call made with the client authorised fetch, proof and all', async () => {
    const api = await startApi(resourceServer());
    try {
      const response = await dpopClient().fetch(`${api.origin}/orders/42?expand=lines`, {
        method: 'POST',
      });
      expect(response.status).toBe(200);
      expect((await response.json()) as { jkt: string | null }).toMatchObject({
        client: CLIENTS.dpopOnly.clientId,
      });
    } finally {
      await api.close();
    }
  });

  it('hands out a nonce that the client picks up and retries with', async () => {
    const api = await startApi(resourceServer({ dpop: { nonce: true } }));
    try {
      const response = await dpopClient().fetch(`${api.origin}/orders/42`);
      expect(response.status).toBe(200);
      expect(api.requests).toHaveLength(2);
      expect(api.requests[1]?.headers.dpop).toBeDefined();
    } finally {
      await api.close();
    }
  });
});

describe('key rotation and outages', () => {
  it('verifies tokens signed with a new key after the IdP rotates, with one refetch', async () => {
    const first = await startIdp({
      keys: await generateSigningKeys(['RS256'], { kidPrefix: 'old' }),
    });
    const clock = manualClock(new Date());
    const server = createResourceServer({
      issuer: first.issuer,
      audience: RESOURCES.jwt,
      now: clock.now,
    });
    const oldToken = await createAuthClient({
      issuer: first.issuer,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      resource: RESOURCES.jwt,
    }).getAccessToken();
    await server.verifyToken(oldToken);
    expect(first.count('/jwks')).toBe(1);
    await first.close();

    const second = await startIdp({
      port: first.port,
      keys: await generateSigningKeys(['RS256'], { kidPrefix: 'new' }),
    });
    try {
      const newToken = await createAuthClient({
        issuer: second.issuer,
        clientId: CLIENTS.basic.clientId,
        clientSecret: CLIENTS.basic.clientSecret,
        resource: RESOURCES.jwt,
      }).getAccessToken();
      expect(decodeProtectedHeader(newToken).kid).not.toBe(decodeProtectedHeader(oldToken).kid);
      second.resetRequests();

      clock.advance(31);
      await expect(server.verifyToken(newToken)).resolves.toMatchObject({ iss: second.issuer });
      expect(second.count('/jwks')).toBe(1);
      // Discovery was cached; only the key set was fetched again.
      expect(second.count('/.well-known/oauth-authorization-server')).toBe(0);

      // The retired key is gone, and a burst of old tokens causes no further fetch.
      for (let i = 0; i < 5; i++)
        expect((await rejection(server.verifyToken(oldToken))).reason).toBe('key');
      expect(second.count('/jwks')).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('keeps working on the last good keys while the JWKS endpoint is down, then fails clearly', async () => {
    const down = await startIdp({ accessTokenTTL: 3600 });
    const clock = manualClock(new Date());
    const server = createResourceServer({
      issuer: down.issuer,
      audience: RESOURCES.jwt,
      now: clock.now,
      jwksCacheMaxAgeSeconds: 60,
      jwksMaxStaleSeconds: 600,
      timeoutMs: 2000,
    });
    const token = await createAuthClient({
      issuer: down.issuer,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      resource: RESOURCES.jwt,
    }).getAccessToken();
    await server.verifyToken(token);
    await down.close();

    const expected = { aud: RESOURCES.jwt, client_id: CLIENTS.basic.clientId };
    clock.advance(61);
    expect(await server.verifyToken(token)).toMatchObject(expected);
    clock.advance(500);
    expect(await server.verifyToken(token)).toMatchObject(expected);

    clock.advance(40);
    const error = await rejection(server.verifyToken(token));
    // An outage is not a bad token: 503 with Retry-After, so the caller does not fetch a new one.
    expect(error).toMatchObject({ reason: 'jwks', status: 503, retryAfter: expect.any(Number) });
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(error.retryAfter).toBeLessThanOrEqual(30);
    expect(error.cause).toBeInstanceOf(NetworkError);
    expect((error.cause as NetworkError).message).toMatch(/JWKS endpoint.*connection refused/);
  });
});
