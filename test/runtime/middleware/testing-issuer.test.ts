/**
 * The middleware tested the way a user tests their own service: with `s2s-auth/testing`'s
 * in-memory issuer instead of a network IdP. Hono, Express and Fastify on 127.0.0.1, one global
 * `requireServiceAuth` and a `requireScopes` per route, Bearer and DPoP-bound tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer } from '../../../src/server.js';
import { createTestIssuer, type TestIssuer } from '../../../src/testing.js';
import { ROUTES, stackedFrameworks, type StackedApi } from './support/stacked-guards.js';

const audience = 'https://orders.test';

describe.each(Object.entries(stackedFrameworks))(
  '%s guarded with a test issuer',
  (_name, start) => {
    let idp: TestIssuer;
    let api: StackedApi;

    beforeAll(async () => {
      idp = await createTestIssuer({ audience });
      api = await start(
        createResourceServer({ issuer: idp.issuer, audience, fetch: idp.fetch }),
        'requireScopes',
      );
    });

    afterAll(async () => {
      await api?.close();
    });

    async function dpopCall(path: string, token: string) {
      const url = `${api.origin}${path}`;
      const proof = await idp.createDpopProof({ htm: 'GET', htu: url, accessToken: token });
      return fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    }

    it('lets a Bearer token with the route scope through, with its claims', async () => {
      const token = await idp.mintAccessToken({ scope: ROUTES.read.scope, client_id: 'billing' });
      const response = await fetch(`${api.origin}${ROUTES.read.path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ client_id: 'billing' });
    });

    it('lets a DPoP-bound token through both guards with one proof, and refuses it as Bearer', async () => {
      const token = await idp.mintAccessToken({ scope: ROUTES.read.scope }, { dpop: true });
      expect((await dpopCall(ROUTES.read.path, token)).status).toBe(200);
      const stolen = await fetch(`${api.origin}${ROUTES.read.path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(stolen.status).toBe(401);
    });

    it('answers 403 insufficient_scope for a route the token has no scope for', async () => {
      const token = await idp.mintAccessToken({ scope: ROUTES.read.scope }, { dpop: true });
      const response = await dpopCall(ROUTES.admin.path, token);
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    });

    it('answers 401 for a token that is not an RFC 9068 access token, or lacks its claims', async () => {
      const idToken = await idp.mintAccessToken({ scope: ROUTES.read.scope }, { typ: 'JWT' });
      const noSubject = await idp.mintAccessToken({ scope: ROUTES.read.scope, sub: undefined });
      for (const token of [idToken, noSubject]) {
        const response = await fetch(`${api.origin}${ROUTES.read.path}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      }
    });
  },
);
