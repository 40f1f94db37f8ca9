/**
 * Guards that stack, on Hono, Express and Fastify as real servers on 127.0.0.1 with DPoP-bound
 * tokens from a real authorization server: one `requireServiceAuth` for every route, then a
 * scope check per route. A request verified once is not verified again, so its DPoP proof is
 * not taken for its own replay; a proof sent again in a second request still is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient, createResourceServer, type AuthClient } from '../../../src/index.js';
import { requireScopes as expressScopes } from '../../../src/express.js';
import { requireScopes as fastifyScopes } from '../../../src/fastify.js';
import { requireScopes as honoScopes } from '../../../src/hono.js';
import { CLIENTS, RESOURCES, startIdp, type TestIdp } from '../../support/idp.js';
import {
  ROUTES,
  stackedFrameworks,
  type RouteGuard,
  type StackedApi,
} from './support/stacked-guards.js';

let idp: TestIdp;

beforeAll(async () => {
  idp = await startIdp();
});

afterAll(async () => {
  await idp.close();
});

function dpopClient(): AuthClient {
  return createAuthClient({
    issuer: idp.issuer,
    clientId: CLIENTS.dpopOnly.clientId,
    clientSecret: CLIENTS.dpopOnly.clientSecret,
    scope: 'orders:read',
    resource: RESOURCES.jwt,
    dpop: true,
  });
}

/** A DPoP-bound request for `path`, with one fresh proof. */
async function signedCall(api: StackedApi, path: string, auth = dpopClient()) {
  const token = await auth.getAccessToken();
  const url = `${api.origin}${path}`;
  const proof = await auth.buildDpopProof({ htm: 'GET', htu: url, accessToken: token });
  return { url, headers: { authorization: `DPoP ${token}`, dpop: proof } };
}

async function answer(response: Response) {
  return {
    status: response.status,
    wwwAuthenticate: response.headers.get('www-authenticate'),
    cacheControl: response.headers.get('cache-control'),
    body: (await response.json()) as unknown,
  };
}

const insufficientScope = {
  status: 403,
  wwwAuthenticate: expect.stringMatching(
    /^DPoP error="insufficient_scope", error_description="the token lacks a required scope", scope="orders:admin", algs="[A-Za-z0-9 ]+"$/,
  ) as unknown,
  cacheControl: 'no-store',
  body: { error: 'insufficient_scope', error_description: 'the token lacks a required scope' },
};

describe.each(Object.keys(stackedFrameworks) as (keyof typeof stackedFrameworks)[])(
  '%s',
  (name) => {
    const running: StackedApi[] = [];
    async function start(guard: RouteGuard): Promise<StackedApi> {
      const resourceServer = createResourceServer({ issuer: idp.issuer, audience: RESOURCES.jwt });
      const api = await stackedFrameworks[name](resourceServer, guard);
      running.push(api);
      return api;
    }
    afterAll(async () => {
      await Promise.all(running.map((api) => api.close()));
    });

    describe('a global requireServiceAuth, then requireScopes per route', () => {
      let api: StackedApi;
      beforeAll(async () => {
        api = await start('requireScopes');
      });

      it('lets a DPoP call with the route scope through, verified once', async () => {
        const { url, headers } = await signedCall(api, ROUTES.read.path);
        const response = await fetch(url, { headers });
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ client_id: CLIENTS.dpopOnly.clientId });
        expect(api.seen.at(-1)).toMatchObject({ iss: idp.issuer, scope: 'orders:read' });
      });

      it('answers 403 insufficient_scope naming the route scope, in the DPoP scheme', async () => {
        const before = api.seen.length;
        const { url, headers } = await signedCall(api, ROUTES.admin.path);
        expect(await answer(await fetch(url, { headers }))).toEqual(insufficientScope);
        expect(api.seen.length).toBe(before);
      });

      it('still refuses the same proof sent again in a second request as a replay', async () => {
        const { url, headers } = await signedCall(api, ROUTES.read.path);
        expect((await fetch(url, { headers })).status).toBe(200);
        const replay = await answer(await fetch(url, { headers }));
        expect(replay.status).toBe(401);
        expect(replay.body).toEqual({
          error: 'invalid_dpop_proof',
          error_description: 'the proof has been used before',
        });
      });

      it('treats requireScopes without a requireServiceAuth ahead of it as a configuration error, not a 401', async () => {
        const { url, headers } = await signedCall(api, ROUTES.unguarded.path);
        const response = await fetch(url, { headers });
        expect(response.status).toBe(500);
        expect(await response.json()).toEqual({ error: 'server_error' });
        expect(api.errors.at(-1)).toBeInstanceOf(TypeError);
        expect((api.errors.at(-1) as TypeError).message).toBe(
          'requireScopes: no requireServiceAuth verified this request before it; install requireServiceAuth ahead of requireScopes on this route',
        );
      });
    });

    describe('a global requireServiceAuth, then requireServiceAuth with scopes per route', () => {
      let api: StackedApi;
      beforeAll(async () => {
        api = await start('requireServiceAuth');
      });

      it('does not take the DPoP proof of the request for its own replay', async () => {
        const { url, headers } = await signedCall(api, ROUTES.read.path);
        const response = await fetch(url, { headers });
        expect(await response.json()).toEqual({ client_id: CLIENTS.dpopOnly.clientId });
        expect(response.status).toBe(200);
      });

      it('answers a missing scope exactly as requireScopes does', async () => {
        const { url, headers } = await signedCall(api, ROUTES.admin.path);
        expect(await answer(await fetch(url, { headers }))).toEqual(insufficientScope);
      });
    });
  },
);

describe('requireScopes options', () => {
  it.each([
    ['hono', honoScopes],
    ['express', expressScopes],
    ['fastify', fastifyScopes],
  ] as const)(
    '%s: refuses no scopes, or malformed ones, with a TypeError when it is made',
    (_name, make) => {
      for (const scopes of ['', [], ['orders read'], 42, undefined]) {
        expect(() => make(scopes as never)).toThrow(TypeError);
      }
      expect(() => make('')).toThrow('requireScopes: `scopes` must name at least one scope');
      expect(() => make('orders:read orders:write')).not.toThrow();
    },
  );
});
