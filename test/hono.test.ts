/**
 * `s2s-auth/hono` follows Hono's convention for refusals: the guard throws an `HTTPException`
 * that the app's `onError` can reshape, carrying the exact answer Hono sends when no `onError`
 * does. Real Hono apps on 127.0.0.1, a resource server verifying tokens from
 * `s2s-auth/testing`'s in-memory issuer.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireScopes, requireServiceAuth, type ServiceAuthEnv } from '../src/hono.js';
import { createResourceServer, TokenError } from '../src/server.js';
import { createTestIssuer, type TestIssuer } from '../src/testing.js';

const audience = 'https://orders.test';

interface RunningApp {
  origin: string;
  close(): Promise<void>;
}

async function listen(app: Hono<ServiceAuthEnv>): Promise<RunningApp> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((resolve) => {
    if (server.listening) resolve();
    else server.once('listening', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The guarded routes: `/orders` for any token, `/admin` for `orders:admin`. */
function routes(app: Hono<ServiceAuthEnv>, issuer: TestIssuer, nonce: boolean): void {
  const resourceServer = createResourceServer({
    issuer: issuer.issuer,
    audience,
    fetch: issuer.fetch,
    ...(nonce ? { dpop: { nonce: true } } : {}),
  });
  app.use('*', requireServiceAuth({ resourceServer }));
  app.get('/orders', (c) => c.json({ caller: c.get('auth').client_id ?? null }));
  app.get('/admin', requireScopes('orders:admin'), (c) => c.json({ admin: true }));
}

/** Every header of an answer but the ones the HTTP server adds whatever the route does. */
function headersOf(response: Response): Record<string, string> {
  const {
    date: _date,
    connection: _connection,
    'keep-alive': _keepAlive,
    ...rest
  } = Object.fromEntries(response.headers);
  return rest;
}

describe('s2s-auth/hono refusals', () => {
  let issuer: TestIssuer;

  beforeAll(async () => {
    issuer = await createTestIssuer({ audience });
  });

  describe('in an app whose onError reshapes them', () => {
    const seen: unknown[] = [];
    let app: RunningApp;

    beforeAll(async () => {
      const hono = new Hono<ServiceAuthEnv>();
      routes(hono, issuer, false);
      hono.onError((error, c) => {
        seen.push(error);
        if (!(error instanceof HTTPException)) return c.json({ problem: 'server' }, 500);
        const challenge = error.res?.headers.get('WWW-Authenticate') ?? '';
        return c.json({ problem: 'auth', status: error.status, challenge }, error.status, {
          'WWW-Authenticate': challenge,
        });
      });
      app = await listen(hono);
    });

    afterAll(async () => {
      await app?.close();
    });

    it('sees an HTTPException with status 401 and the challenge for a request without a token', async () => {
      const response = await fetch(`${app.origin}/orders`);

      expect(response.status).toBe(401);
      const body = (await response.json()) as {
        problem: string;
        status: number;
        challenge: string;
      };
      expect(body).toEqual({ problem: 'auth', status: 401, challenge: expect.any(String) });
      expect(body.challenge).toMatch(/^Bearer, DPoP algs="[^"]*ES256/);
      expect(response.headers.get('www-authenticate')).toBe(body.challenge);
      const error = seen.at(-1);
      expect(error).toBeInstanceOf(HTTPException);
      expect((error as HTTPException).status).toBe(401);
      expect((error as HTTPException).cause).toBeInstanceOf(TokenError);
      expect(((error as HTTPException).cause as TokenError).reason).toBe('missing');
    });

    it('sees an HTTPException with status 403 and insufficient_scope for a missing scope', async () => {
      const token = await issuer.mintAccessToken({ scope: 'orders:read' });
      const response = await fetch(`${app.origin}/admin`, {
        headers: { authorization: `Bearer ${token}` },
      });

      expect(response.status).toBe(403);
      const body = (await response.json()) as { problem: string; challenge: string };
      expect(body.problem).toBe('auth');
      expect(body.challenge).toMatch(/^Bearer .*error="insufficient_scope"/);
      expect(body.challenge).toMatch(/scope="orders:admin"/);
      const error = seen.at(-1) as HTTPException;
      expect(error).toBeInstanceOf(HTTPException);
      expect(error.status).toBe(403);
      expect((error.cause as TokenError).reason).toBe('scope');
      expect(error.message).not.toContain(token);
    });

    it('gives the same answer from getResponse() each time it is asked, with the refusal as its body', async () => {
      await fetch(`${app.origin}/orders`);
      const error = seen.at(-1) as HTTPException;

      const first = error.getResponse();
      const second = error.getResponse();
      expect(first.status).toBe(401);
      expect(first.headers.get('www-authenticate')).toBe(
        error.res?.headers.get('www-authenticate'),
      );
      expect(await first.json()).toEqual({
        error: 'unauthorized',
        error_description: 'no access token',
      });
      expect(await second.text()).toBe(
        '{"error":"unauthorized","error_description":"no access token"}',
      );
    });

    it('lets a valid token through without calling onError', async () => {
      const before = seen.length;
      const token = await issuer.mintAccessToken({ client_id: 'billing' });
      const response = await fetch(`${app.origin}/orders`, {
        headers: { authorization: `Bearer ${token}` },
      });

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ caller: 'billing' });
      expect(seen).toHaveLength(before);
    });
  });

  describe('in an app without onError', () => {
    let app: RunningApp;

    beforeAll(async () => {
      const hono = new Hono<ServiceAuthEnv>();
      // Headers set before the guard stay on its answer, as they did with `c.json`.
      hono.use('*', async (c, next) => {
        c.header('X-Request-Id', 'r-1');
        await next();
      });
      routes(hono, issuer, true);
      app = await listen(hono);
    });

    afterAll(async () => {
      await app?.close();
    });

    it('answers 401 with the challenge, no-store and the JSON body, as before', async () => {
      const response = await fetch(`${app.origin}/orders`);

      expect(response.status).toBe(401);
      expect(headersOf(response)).toEqual({
        'cache-control': 'no-store',
        'content-type': 'application/json',
        'www-authenticate': expect.stringMatching(/^Bearer, DPoP algs="/),
        'x-request-id': 'r-1',
        // Framed with its length, as `c.json` answered, not chunked.
        'content-length': '62',
      });
      expect(await response.text()).toBe(
        '{"error":"unauthorized","error_description":"no access token"}',
      );
    });

    it('answers 403 insufficient_scope with its challenge and body, as before', async () => {
      const token = await issuer.mintAccessToken({ scope: 'orders:read' });
      const response = await fetch(`${app.origin}/admin`, {
        headers: { authorization: `Bearer ${token}` },
      });

      expect(response.status).toBe(403);
      const headers = headersOf(response);
      expect(headers['www-authenticate']).toMatch(/^Bearer .*error="insufficient_scope"/);
      expect(headers['cache-control']).toBe('no-store');
      expect(headers['content-type']).toBe('application/json');
      const body = (await response.json()) as { error: string };
      expect(body.error).toBe('insufficient_scope');
    });

    it('answers a DPoP proof without the nonce with 401 use_dpop_nonce and DPoP-Nonce, as before', async () => {
      const token = await issuer.mintAccessToken({}, { dpop: true });
      const url = `${app.origin}/orders`;
      const proof = await issuer.createDpopProof({ htm: 'GET', htu: url, accessToken: token });
      const response = await fetch(url, {
        headers: { authorization: `DPoP ${token}`, dpop: proof },
      });

      expect(response.status).toBe(401);
      const headers = headersOf(response);
      expect(headers['www-authenticate']).toMatch(/^DPoP .*error="use_dpop_nonce"/);
      expect(headers['dpop-nonce']).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      expect(headers['cache-control']).toBe('no-store');
      const body = (await response.json()) as { error: string };
      expect(body.error).toBe('use_dpop_nonce');
    });
  });
});
