/**
 * requireServiceAuth on Hono, Express and Fastify with a resource server that introspects
 * opaque tokens (RFC 7662) at a real authorization server (oidc-provider): Bearer and
 * DPoP-bound opaque calls from the SDK client go through, inactive tokens get 401, and an IdP
 * that cannot be asked gets 503 with Retry-After.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient, createResourceServer, revokeToken } from '../../../src/index.js';
import type { ServiceAuthOptions } from '../../../src/runtime/middleware/guard-options.js';
import { closedPort } from '../../support/http.js';
import { CLIENTS, RESOURCES, startIdp, type TestIdp } from '../../support/idp.js';
import { frameworks, type OrdersAnswer, type RunningApi } from './support/frameworks.js';

let idp: TestIdp;

beforeAll(async () => {
  idp = await startIdp();
});

afterAll(async () => {
  await idp.close();
});

const credentials = {
  clientId: CLIENTS.resourceServer.clientId,
  clientSecret: CLIENTS.resourceServer.clientSecret,
};

function opaqueClient(client: typeof CLIENTS.basic | typeof CLIENTS.dpopOnly, dpop = false) {
  return createAuthClient({
    issuer: idp.issuer,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    resource: RESOURCES.opaque,
    scope: 'ledger:read',
    dpop,
  });
}

describe.each(Object.keys(frameworks) as (keyof typeof frameworks)[])('%s', (name) => {
  const running: RunningApi[] = [];
  async function start(
    introspection: Record<string, unknown> = {},
    options: Partial<ServiceAuthOptions> = {},
  ): Promise<RunningApi> {
    const resourceServer = createResourceServer({
      issuer: idp.issuer,
      audience: RESOURCES.opaque,
      introspection: { ...credentials, cacheMaxSeconds: 0, ...introspection },
    });
    const api = await frameworks[name]({ resourceServer, scopes: 'ledger:read', ...options });
    running.push(api);
    return api;
  }

  afterAll(async () => {
    await Promise.all(running.map((api) => api.close()));
  });

  it('lets Bearer and DPoP-bound opaque calls through with the introspected claims', async () => {
    const api = await start();
    const bearer = await opaqueClient(CLIENTS.basic).fetch(`${api.origin}/api/orders/42`);
    expect(bearer.status).toBe(200);
    expect((await bearer.json()) as OrdersAnswer).toEqual({
      id: '42',
      client_id: CLIENTS.basic.clientId,
      scope: 'ledger:read',
      jkt: null,
    });
    const bound = await opaqueClient(CLIENTS.dpopOnly, true).fetch(`${api.origin}/api/orders/7`);
    expect(bound.status).toBe(200);
    const body = (await bound.json()) as OrdersAnswer;
    expect(body).toMatchObject({ id: '7', client_id: CLIENTS.dpopOnly.clientId });
    expect(body.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('answers 401 invalid_token to a revoked opaque token', async () => {
    const api = await start();
    const auth = opaqueClient(CLIENTS.basic);
    const token = await auth.getAccessToken();
    await revokeToken({ issuer: idp.issuer, ...credentials, token });
    const response = await fetch(`${api.origin}/api/orders/42`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="the token is not active"',
    );
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'the token is not active',
    });
    expect(api.seen).toEqual([]);
  });

  it('answers 503 with Retry-After, and no challenge, when the IdP cannot be asked', async () => {
    const port = await closedPort();
    const api = await start({
      introspectionEndpoint: `http://127.0.0.1:${port}/token/introspection`,
    });
    const token = await opaqueClient(CLIENTS.basic).getAccessToken();
    const response = await fetch(`${api.origin}/api/orders/42`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(await response.text()).not.toContain(token);
    expect(api.seen).toEqual([]);
  });
});
