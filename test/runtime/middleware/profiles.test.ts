/**
 * requireServiceAuth on Hono, Express and Fastify, each a real server on 127.0.0.1, with a
 * resource server configured by a profile: Keycloak's genuine access token goes through, its ID
 * token (typed `JWT` like the access token, with this service as `aud`) is answered 401, and
 * what the error knows of the refusal (the values expected and found) stays out of the answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServerEvent } from '../../../src/server.js';
import type { ServiceAuthOptions } from '../../../src/runtime/middleware/guard-options.js';
import { idpFixtures } from '../../fixtures/idps/index.js';
import { fixtureIdp, type FixtureIdp } from '../../support/fixture-idp.js';
import { frameworks, type OrdersAnswer, type RunningApi } from './support/frameworks.js';
import { ROUTES, stackedFrameworks, type StackedApi } from './support/stacked-guards.js';

const fixture = idpFixtures.keycloak;

describe.each(Object.keys(frameworks) as (keyof typeof frameworks)[])('%s', (name) => {
  let idp: FixtureIdp;
  const events: ResourceServerEvent[] = [];
  const running: RunningApi[] = [];

  beforeAll(async () => {
    idp = await fixtureIdp(fixture);
  });

  afterAll(async () => {
    await Promise.all(running.map((api) => api.close()));
  });

  async function start(options: Partial<ServiceAuthOptions> = {}): Promise<RunningApi> {
    const resourceServer = createResourceServer({
      ...idp.options(),
      onEvent: (event) => events.push(event),
    });
    const api = await frameworks[name]({ resourceServer, ...options });
    running.push(api);
    return api;
  }

  function call(api: RunningApi, token: string): Promise<Response> {
    return fetch(`${api.origin}/api/orders/42`, { headers: { authorization: `Bearer ${token}` } });
  }

  it('lets the genuine access token through, its scopes checked through requiredScopes', async () => {
    const api = await start({ requiredScopes: 'orders' });
    const response = await call(api, await idp.sign(fixture.accessToken));
    expect(response.status).toBe(200);
    expect((await response.json()) as OrdersAnswer).toMatchObject({
      client_id: 'billing-worker',
      scope: 'orders profile email',
    });
  });

  it('answers the ID token of the same realm, typed JWT and meant for this service, with 401', async () => {
    const api = await start();
    const response = await call(api, await idp.sign(fixture.idToken));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="the token is not an access token for this resource"',
    );
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'the token is not an access token for this resource',
    });
    expect(api.seen).toEqual([]);
  });

  it('keeps what was expected and found out of the challenge and the body, and in the event', async () => {
    const api = await start({ scopes: 'orders:admin' });
    const wrongAudience = await idp.sign({
      ...fixture.accessToken,
      payload: { ...fixture.accessToken.payload, aud: 'billing-api-7f3e' },
    });
    const missingScope = await idp.sign(fixture.accessToken);
    events.length = 0;
    for (const [token, status] of [
      [wrongAudience, 401],
      [missingScope, 403],
    ] as const) {
      const response = await call(api, token);
      expect(response.status).toBe(status);
      const answer = `${[...response.headers].map(([key, value]) => `${key}: ${value}`).join('\n')}\n${await response.text()}`;
      for (const leak of ['billing-api-7f3e', 'orders-api', 'expected', 'missing', 'grants']) {
        expect(answer).not.toContain(leak);
      }
    }
    expect(events.filter((event) => event.type === 'verification_failed')).toEqual([
      expect.objectContaining({
        type: 'verification_failed',
        reason: 'audience',
        detail: 'aud is "billing-api-7f3e"; expected "orders-api" (the `audience` option)',
      }),
      expect.objectContaining({
        type: 'verification_failed',
        reason: 'scope',
        detail:
          'missing orders:admin; the token grants "orders profile email", read from scope (the `scopeClaims` option)',
      }),
    ]);
  });

  it('refuses requiredScopes and its alias scopes given together', async () => {
    const resourceServer = createResourceServer(idp.options());
    await expect(
      frameworks[name]({ resourceServer, requiredScopes: 'orders', scopes: 'orders' }),
    ).rejects.toThrow('requireServiceAuth: `scopes` is another name for `requiredScopes`');
  });
});

describe.each(Object.keys(stackedFrameworks) as (keyof typeof stackedFrameworks)[])(
  '%s: requireScopes after requireServiceAuth, with Okta, whose scopes are in scp',
  (name) => {
    const okta = idpFixtures.okta;
    let api: StackedApi;
    let idp: FixtureIdp;

    beforeAll(async () => {
      idp = await fixtureIdp(okta);
      api = await stackedFrameworks[name](createResourceServer(idp.options()), 'requireScopes');
    });

    afterAll(() => api.close());

    it('reads the route scope from scp, as the profile says', async () => {
      const headers = { authorization: `Bearer ${await idp.sign(okta.accessToken)}` };
      expect(okta.accessToken.payload.scope).toBeUndefined();
      expect((await fetch(`${api.origin}${ROUTES.read.path}`, { headers })).status).toBe(200);
      const admin = await fetch(`${api.origin}${ROUTES.admin.path}`, { headers });
      expect(admin.status).toBe(403);
      expect(admin.headers.get('www-authenticate')).toBe(
        'Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="orders:admin"',
      );
    });
  },
);
