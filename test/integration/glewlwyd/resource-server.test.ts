/**
 * createResourceServer against glewlwyd's real access tokens, JWKS and discovery on 127.0.0.1:
 * RFC 9068 tokens verified with the audience checked, the claims glewlwyd puts in them, and
 * DPoP-bound tokens end to end, from the SDK client through an HTTP API to verifyRequest.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createResourceServer,
  TokenError,
  type AuthClientOptions,
  type ResourceServer,
  type ResourceServerOptions,
} from '../../../src/index.js';
import { GLEWLWYD_RESOURCES, GLEWLWYD_SCOPES, glewlwydForFile } from '../../support/glewlwyd.js';
import { rejectionOf } from '../../support/caught.js';
import { recordingFetch, startServer, type TestServer } from '../../support/http.js';

const idp = glewlwydForFile();

const { ordersRead, ordersWrite } = GLEWLWYD_SCOPES;
const orders = GLEWLWYD_RESOURCES.orders;

function client(overrides: Partial<AuthClientOptions> = {}) {
  return createAuthClient({
    issuer: idp.issuer,
    ...idp.clients.basic,
    scope: ordersRead,
    resource: orders,
    ...overrides,
  });
}

function dpopClient() {
  return client({ ...idp.clients.dpop, dpop: true });
}

function resourceServer(overrides: Partial<ResourceServerOptions> = {}): ResourceServer {
  return createResourceServer({ issuer: idp.issuer, audience: orders, ...overrides });
}

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, TokenError);

/** An API on 127.0.0.1 guarded by `verifyRequest`, answering its challenges. */
async function startApi(server: ResourceServer): Promise<TestServer> {
  let origin = '';
  const api = await startServer(async (request, response) => {
    try {
      const claims = await server.verifyRequest({
        method: request.method,
        url: `${origin}${request.url}`,
        headers: request.headers,
      });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ client: claims.client_id, jkt: claims.cnf?.jkt ?? null }));
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      response.writeHead(error.status, { 'www-authenticate': error.wwwAuthenticate });
      response.end();
    }
  });
  origin = api.origin;
  return api;
}

describe('JWT access tokens', () => {
  it('carries the RFC 9068 header and claims, and a few of its own', async () => {
    const token = await client().getAccessToken();
    expect(decodeProtectedHeader(token)).toEqual({
      typ: 'at+jwt',
      alg: 'RS256',
      kid: idp.signingKeys[0]?.kid,
    });
    const claims = decodeJwt(token);
    expect(Object.keys(claims).sort()).toEqual(
      ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'nbf', 'scope', 'sub', 'type'].sort(),
    );
    expect(claims).toMatchObject({
      iss: idp.issuer,
      aud: orders,
      sub: idp.clients.basic.clientId,
      client_id: idp.clients.basic.clientId,
      scope: ordersRead,
      type: 'access_token',
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
  });

  it('verifies with the JWKS found through discovery, fetched once for many tokens', async () => {
    const recorder = recordingFetch();
    const server = resourceServer({ fetch: recorder.fetch });
    const first = await server.verifyToken(await client().getAccessToken());
    expect(first).toMatchObject({
      iss: idp.issuer,
      aud: orders,
      client_id: idp.clients.basic.clientId,
    });
    const other = await client({
      ...idp.clients.post,
      clientAuth: 'client_secret_post',
    }).getAccessToken();
    expect((await server.verifyToken(other)).client_id).toBe(idp.clients.post.clientId);
    expect(recorder.sent.filter((request) => request.url === idp.jwksUri)).toHaveLength(1);
  });

  it('refuses a token for another resource with reason audience', async () => {
    const token = await client({
      scope: GLEWLWYD_SCOPES.ledgerRead,
      resource: GLEWLWYD_RESOURCES.ledger,
    }).getAccessToken();
    const error = await rejection(resourceServer().verifyToken(token));
    expect(error).toMatchObject({ reason: 'audience', status: 401 });
  });

  it('refuses a token asked for without a resource: its aud is the scope list', async () => {
    const token = await client({ resource: [] }).getAccessToken();
    expect(decodeJwt(token).aud).toBe(ordersRead);
    expect((await rejection(resourceServer().verifyToken(token))).reason).toBe('audience');
    // A service that takes such tokens names the scope list as its audience.
    const claims = await resourceServer({ audience: ordersRead }).verifyToken(token);
    expect(claims.scope).toBe(ordersRead);
  });

  it('answers 403 insufficient_scope for a scope the token lacks', async () => {
    const token = await client().getAccessToken();
    const error = await rejection(
      resourceServer().verifyToken(token, { requiredScopes: [ordersWrite] }),
    );
    expect(error).toMatchObject({ reason: 'scope', status: 403 });
    expect(error.wwwAuthenticate).toContain('error="insufficient_scope"');
    const both = await client({ scope: [ordersRead, ordersWrite] }).getAccessToken();
    const claims = await resourceServer().verifyToken(both, { requiredScopes: [ordersWrite] });
    const granted = typeof claims.scope === 'string' ? claims.scope.split(' ') : claims.scope;
    expect([...(granted ?? [])].sort()).toEqual([ordersRead, ordersWrite].sort());
  });

  it('refuses a token whose payload was changed after glewlwyd signed it', async () => {
    const token = await client().getAccessToken();
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const forged = Buffer.from(
      JSON.stringify({ ...claims, scope: `${ordersRead} ${ordersWrite}` }),
    ).toString('base64url');
    const error = await rejection(resourceServer().verifyToken(`${header}.${forged}.${signature}`));
    expect(error.reason).toBe('signature');
  });

  it('refuses a token from another issuer on the same server', async () => {
    const token = await client({ issuer: idp.nonceIssuer }).getAccessToken();
    expect(decodeJwt(token).iss).toBe(idp.nonceIssuer);
    expect((await rejection(resourceServer().verifyToken(token))).reason).toBe('issuer');
  });
});

describe('DPoP-bound tokens end to end', () => {
  it('verifies a request with the client proof, bound to the key glewlwyd saw', async () => {
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
    expect(claims.cnf?.jkt).toBe((decodeJwt(token.access_token).cnf as { jkt: string }).jkt);
  });

  it('serves an API call made with the client authorised fetch, proof and all', async () => {
    const api = await startApi(resourceServer());
    try {
      const response = await dpopClient().fetch(`${api.origin}/orders/42?expand=lines`, {
        method: 'POST',
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { client: string; jkt: string | null };
      expect(body.client).toBe(idp.clients.dpop.clientId);
      expect(body.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(api.requests[0]?.headers.authorization).toMatch(/^DPoP /);
    } finally {
      await api.close();
    }
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

  it('refuses a proof signed by another key than the one the token is bound to', async () => {
    const token = await dpopClient().getAccessToken();
    const url = 'https://orders.example.test/orders/7';
    const stranger = await client({ dpop: true }).buildDpopProof({
      htm: 'GET',
      htu: url,
      accessToken: token,
    });
    const error = await rejection(
      resourceServer().verifyRequest(
        new Request(url, { headers: { authorization: `DPoP ${token}`, dpop: stranger } }),
      ),
    );
    expect(error.reason).toMatch(/^dpop/);
  });
});
