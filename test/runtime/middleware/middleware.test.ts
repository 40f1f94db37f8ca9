/**
 * requireServiceAuth on Hono, Express and Fastify, each a real server on 127.0.0.1, against a
 * real authorization server (oidc-provider): calls from the SDK's own client with Bearer and
 * DPoP-bound tokens, and hand-made requests for every way a call can be refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createResourceServer,
  type AuthClient,
  type AuthClientOptions,
  type ResourceServerOptions,
} from '../../../src/index.js';
import type { ServiceAuthOptions } from '../../../src/runtime/middleware/guard-options.js';
import { closedPort } from '../../support/http.js';
import { CLIENTS, RESOURCES, startIdp, type TestIdp } from '../../support/idp.js';
import { startForwardingProxy } from './support/forwarding-proxy.js';
import { frameworks, type OrdersAnswer, type RunningApi } from './support/frameworks.js';

let idp: TestIdp;

beforeAll(async () => {
  idp = await startIdp();
});

afterAll(async () => {
  await idp.close();
});

function bearerClient(overrides: Partial<AuthClientOptions> = {}): AuthClient {
  return createAuthClient({
    issuer: idp.issuer,
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    scope: 'orders:read',
    resource: RESOURCES.jwt,
    ...overrides,
  });
}

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

function resourceServer(overrides: Partial<ResourceServerOptions> = {}) {
  return createResourceServer({ issuer: idp.issuer, audience: RESOURCES.jwt, ...overrides });
}

/** What a test reads back from a response. */
interface Answer {
  status: number;
  wwwAuthenticate: string | null;
  dpopNonce: string | null;
  retryAfter: string | null;
  cacheControl: string | null;
  contentType: string | null;
  text: string;
  body: unknown;
}

async function read(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return {
    status: response.status,
    wwwAuthenticate: response.headers.get('www-authenticate'),
    dpopNonce: response.headers.get('dpop-nonce'),
    retryAfter: response.headers.get('retry-after'),
    cacheControl: response.headers.get('cache-control'),
    contentType: response.headers.get('content-type'),
    text,
    body,
  };
}

const dpopAlgs = 'algs="[A-Za-z0-9 ]+"';

/** Sends a request that must be refused, and checks that the guarded handler did not run. */
async function refusal(api: RunningApi, send: () => Promise<Response>): Promise<Answer> {
  const before = api.seen.length;
  const answer = await read(await send());
  expect(api.seen.length, 'the handler ran for a refused request').toBe(before);
  return answer;
}

/** The headers every rejection carries, whatever the framework. */
function expectRejection(answer: Answer, status: 400 | 401 | 403 | 503): void {
  expect(answer.status).toBe(status);
  expect(answer.cacheControl).toBe('no-store');
  expect(answer.contentType).toMatch(/^application\/json/);
}

describe.each(Object.keys(frameworks) as (keyof typeof frameworks)[])('%s', (name) => {
  const running: RunningApi[] = [];
  async function start(options: Partial<ServiceAuthOptions> = {}): Promise<RunningApi> {
    const api = await frameworks[name]({ resourceServer: resourceServer(), ...options });
    running.push(api);
    return api;
  }

  afterAll(async () => {
    await Promise.all(running.map((api) => api.close()));
  });

  describe('calls from the SDK client', () => {
    let api: RunningApi;
    beforeAll(async () => {
      api = await start({ scopes: 'orders:read' });
    });

    it('lets a Bearer call through and hands the handler the verified claims', async () => {
      const response = await bearerClient().fetch(`${api.origin}/api/orders/42`);
      expect(response.status).toBe(200);
      expect((await response.json()) as OrdersAnswer).toEqual({
        id: '42',
        client_id: CLIENTS.basic.clientId,
        scope: expect.stringContaining('orders:read') as unknown,
        jkt: null,
      });
      expect(api.seen.at(-1)).toMatchObject({ iss: idp.issuer, aud: RESOURCES.jwt });
    });

    it('lets a DPoP-bound call through, its proof checked against the full path under the mount point', async () => {
      const auth = dpopClient();
      const response = await auth.fetch(`${api.origin}/api/orders/7?expand=lines`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ quantity: 2 }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as OrdersAnswer;
      expect(body).toMatchObject({ id: '7', client_id: CLIENTS.dpopOnly.clientId });
      expect(body.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('answers 403 insufficient_scope, naming the scope, to a token without it', async () => {
      const strict = await start({ scopes: ['orders:write'] });
      const answer = await refusal(strict, () =>
        bearerClient().fetch(`${strict.origin}/api/orders/42`),
      );
      expectRejection(answer, 403);
      expect(answer.wwwAuthenticate).toBe(
        'Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="orders:write"',
      );
      expect(answer.dpopNonce).toBeNull();
      expect(answer.body).toEqual({
        error: 'insufficient_scope',
        error_description: 'the token lacks a required scope',
      });
      expect(strict.seen).toEqual([]);
    });
  });

  describe('requests that are refused', () => {
    let api: RunningApi;
    beforeAll(async () => {
      api = await start();
    });

    it('answers a request without a token with 401 and both challenges, naming no error', async () => {
      const answer = await refusal(api, () => fetch(`${api.origin}/api/orders/42`));
      expectRejection(answer, 401);
      expect(answer.wwwAuthenticate).toMatch(new RegExp(`^Bearer, DPoP ${dpopAlgs}$`));
      expect(answer.dpopNonce).toBeNull();
      expect(answer.body).toEqual({ error: 'unauthorized', error_description: 'no access token' });
    });

    it('answers a malformed token with 401 invalid_token and does not echo it', async () => {
      const token = 'eyJhbGciOiJSUzI1NiJ9.not-a-payload';
      const answer = await refusal(api, () =>
        fetch(`${api.origin}/api/orders/42`, { headers: { authorization: `Bearer ${token}` } }),
      );
      expectRejection(answer, 401);
      expect(answer.wwwAuthenticate).toMatch(
        /^Bearer error="invalid_token", error_description="[^"]+"$/,
      );
      expect(answer.body).toMatchObject({ error: 'invalid_token' });
      expect(answer.text).not.toContain('not-a-payload');
      expect(answer.wwwAuthenticate).not.toContain('not-a-payload');
    });

    it('answers a token for another resource with 401 invalid_token', async () => {
      const token = await bearerClient({
        resource: RESOURCES.es256,
        scope: 'inventory:read',
      }).getAccessToken();
      const answer = await refusal(api, () =>
        fetch(`${api.origin}/api/orders/42`, { headers: { authorization: `Bearer ${token}` } }),
      );
      expectRejection(answer, 401);
      expect(answer.wwwAuthenticate).toBe(
        'Bearer error="invalid_token", error_description="the token is not meant for this resource"',
      );
      expect(answer.body).toEqual({
        error: 'invalid_token',
        error_description: 'the token is not meant for this resource',
      });
      expect(answer.text).not.toContain(token.split('.')[2]);
    });

    it('answers a DPoP-bound token sent as Bearer with a DPoP invalid_token challenge', async () => {
      const token = await dpopClient().getAccessToken();
      const answer = await refusal(api, () =>
        fetch(`${api.origin}/api/orders/42`, { headers: { authorization: `Bearer ${token}` } }),
      );
      expectRejection(answer, 401);
      expect(answer.wwwAuthenticate).toMatch(
        new RegExp(
          `^DPoP error="invalid_token", error_description="the token is bound to a DPoP key and must be sent with the DPoP scheme", ${dpopAlgs}$`,
        ),
      );
      expect(answer.body).toEqual({
        error: 'invalid_token',
        error_description: 'the token is bound to a DPoP key and must be sent with the DPoP scheme',
      });
    });

    it('accepts a DPoP proof once and answers its replay with 401 invalid_dpop_proof', async () => {
      const auth = dpopClient();
      const token = await auth.getAccessToken();
      const url = `${api.origin}/api/orders/9`;
      const proof = await auth.buildDpopProof({ htm: 'GET', htu: url, accessToken: token });
      const send = () =>
        fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } }).then(read);

      expect((await send()).status).toBe(200);
      const replay = await send();
      expectRejection(replay, 401);
      expect(replay.wwwAuthenticate).toMatch(
        new RegExp(
          `^DPoP error="invalid_dpop_proof", error_description="the proof has been used before", ${dpopAlgs}$`,
        ),
      );
      expect(replay.body).toEqual({
        error: 'invalid_dpop_proof',
        error_description: 'the proof has been used before',
      });
    });

    it('answers a proof made for another URL with 401 invalid_dpop_proof', async () => {
      const auth = dpopClient();
      const token = await auth.getAccessToken();
      const proof = await auth.buildDpopProof({
        htm: 'GET',
        htu: `${api.origin}/orders/9`, // without the /api mount point
        accessToken: token,
      });
      const answer = await refusal(api, () =>
        fetch(`${api.origin}/api/orders/9`, {
          headers: { authorization: `DPoP ${token}`, dpop: proof },
        }),
      );
      expectRejection(answer, 401);
      expect(answer.body).toEqual({
        error: 'invalid_dpop_proof',
        error_description: 'the proof htu does not match the request URL',
      });
    });
  });

  it('answers an expired token with 401 invalid_token', async () => {
    const later = () => new Date(Date.now() + 3600_000);
    const api = await start({ resourceServer: resourceServer({ now: later }) });
    const token = await bearerClient().getAccessToken();
    const answer = await refusal(api, () =>
      fetch(`${api.origin}/api/orders/42`, { headers: { authorization: `Bearer ${token}` } }),
    );
    expectRejection(answer, 401);
    expect(answer.wwwAuthenticate).toBe(
      'Bearer error="invalid_token", error_description="the token has expired"',
    );
    expect(answer.body).toEqual({
      error: 'invalid_token',
      error_description: 'the token has expired',
    });
    expect(answer.text).not.toContain(token.split('.')[1]);
  });

  it('answers 503 with Retry-After, not 401 invalid_token, while the issuer keys cannot be fetched', async () => {
    const api = await start({
      resourceServer: resourceServer({
        jwksUri: `http://127.0.0.1:${await closedPort()}/jwks`,
        jwksCooldownSeconds: 30,
        timeoutMs: 1000,
      }),
    });
    const token = await bearerClient().getAccessToken();
    const answer = await refusal(api, () =>
      fetch(`${api.origin}/api/orders/42`, { headers: { authorization: `Bearer ${token}` } }),
    );
    expectRejection(answer, 503);
    expect(answer.retryAfter).toMatch(/^(30|29)$/);
    // No challenge: new credentials would not help, and `invalid_token` would make the caller
    // fetch a new token for nothing.
    expect(answer.wwwAuthenticate).toBeNull();
    expect(answer.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the signing keys of the issuer are unavailable',
    });
    expect(api.errors).toEqual([]);
  });

  it('lets the SDK client see the 503 without fetching a new token', async () => {
    let tokenRequests = 0;
    const auth = bearerClient({
      fetch: (request) => {
        if (request.url.endsWith('/token')) tokenRequests += 1;
        return fetch(request);
      },
    });
    const api = await start({
      resourceServer: resourceServer({
        jwksUri: `http://127.0.0.1:${await closedPort()}/jwks`,
        timeoutMs: 1000,
      }),
    });
    const response = await auth.fetch(`${api.origin}/api/orders/42`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(tokenRequests).toBe(1);
  });

  describe('a resource server that requires DPoP nonces', () => {
    let api: RunningApi;
    beforeAll(async () => {
      api = await start({ resourceServer: resourceServer({ dpop: { nonce: true } }) });
    });

    it('serves the SDK client, which picks up the nonce and retries once', async () => {
      const before = api.hits;
      const response = await dpopClient().fetch(`${api.origin}/api/orders/42`);
      expect(response.status).toBe(200);
      expect(api.hits - before).toBe(2);
    });

    it('answers a proof without the nonce with 401 use_dpop_nonce and a DPoP-Nonce header', async () => {
      const auth = dpopClient();
      const token = await auth.getAccessToken();
      const url = `${api.origin}/api/orders/42`;
      const proof = await auth.buildDpopProof({ htm: 'GET', htu: url, accessToken: token });
      const answer = await refusal(api, () =>
        fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } }),
      );
      expectRejection(answer, 401);
      expect(answer.wwwAuthenticate).toMatch(
        new RegExp(
          `^DPoP error="use_dpop_nonce", error_description="the resource server requires a nonce in the DPoP proof", ${dpopAlgs}$`,
        ),
      );
      expect(answer.dpopNonce).toMatch(/^[\x21\x23-\x5b\x5d-\x7e]+$/);
      expect(answer.body).toEqual({
        error: 'use_dpop_nonce',
        error_description: 'the resource server requires a nonce in the DPoP proof',
      });

      const withNonce = await auth.buildDpopProof({
        htm: 'GET',
        htu: url,
        accessToken: token,
        nonce: answer.dpopNonce ?? '',
      });
      const retried = await fetch(url, {
        headers: { authorization: `DPoP ${token}`, dpop: withNonce },
      });
      expect(retried.status).toBe(200);
    });
  });

  describe('behind a reverse proxy', () => {
    it('checks proofs against the pinned publicOrigin, so calls through the proxy pass', async () => {
      const proxy = await startForwardingProxy();
      try {
        const api = await start({ publicOrigin: proxy.origin });
        proxy.forwardTo(api.origin);
        const response = await dpopClient().fetch(`${proxy.origin}/api/orders/42`);
        expect(response.status).toBe(200);
        expect(((await response.json()) as OrdersAnswer).client_id).toBe(CLIENTS.dpopOnly.clientId);

        // The pinned origin is the only one: a proof for the address the API listens on fails.
        const auth = dpopClient();
        const token = await auth.getAccessToken();
        const direct = `${api.origin}/api/orders/42`;
        const proof = await auth.buildDpopProof({ htm: 'GET', htu: direct, accessToken: token });
        const answer = await refusal(api, () =>
          fetch(direct, { headers: { authorization: `DPoP ${token}`, dpop: proof } }),
        );
        expectRejection(answer, 401);
        expect(answer.body).toMatchObject({ error: 'invalid_dpop_proof' });
      } finally {
        await proxy.close();
      }
    });

    it('takes an https publicOrigin for a proxy that terminates TLS', async () => {
      const api = await start({ publicOrigin: 'https://orders.example.test' });
      const auth = dpopClient();
      const token = await auth.getAccessToken();
      const proof = await auth.buildDpopProof({
        htm: 'GET',
        htu: 'https://orders.example.test/api/orders/42',
        accessToken: token,
      });
      const response = await fetch(`${api.origin}/api/orders/42`, {
        headers: { authorization: `DPoP ${token}`, dpop: proof },
      });
      expect(response.status).toBe(200);
    });

    it('reads X-Forwarded-Proto and X-Forwarded-Host with trustProxy', async () => {
      const proxy = await startForwardingProxy();
      try {
        const api = await start({ trustProxy: true });
        proxy.forwardTo(api.origin);
        const response = await dpopClient().fetch(`${proxy.origin}/api/orders/42`);
        expect(response.status).toBe(200);
      } finally {
        await proxy.close();
      }
    });

    it('refuses proofs for the proxy URL when neither option is set', async () => {
      const proxy = await startForwardingProxy();
      try {
        const api = await start();
        proxy.forwardTo(api.origin);
        const answer = await refusal(api, () =>
          dpopClient().fetch(`${proxy.origin}/api/orders/42`),
        );
        expectRejection(answer, 401);
        expect(answer.body).toEqual({
          error: 'invalid_dpop_proof',
          error_description: 'the proof htu does not match the request URL',
        });
      } finally {
        await proxy.close();
      }
    });

    it('ignores X-Forwarded headers unless trustProxy is on', async () => {
      const api = await start();
      const auth = dpopClient();
      const token = await auth.getAccessToken();
      const forged = 'https://forged.example.test/api/orders/42';
      const proof = await auth.buildDpopProof({ htm: 'GET', htu: forged, accessToken: token });
      const answer = await refusal(api, () =>
        fetch(`${api.origin}/api/orders/42`, {
          headers: {
            authorization: `DPoP ${token}`,
            dpop: proof,
            'x-forwarded-proto': 'https',
            'x-forwarded-host': 'forged.example.test',
          },
        }),
      );
      expectRejection(answer, 401);
      expect(answer.body).toMatchObject({ error: 'invalid_dpop_proof' });
    });
  });

  it('hands failures other than a rejected token to the framework error handler', async () => {
    const fault = new Error('replay store unreachable');
    const api = await start({
      resourceServer: {
        verifyRequest: () => Promise.reject(fault),
      },
    });
    const response = await fetch(`${api.origin}/api/orders/42`, {
      headers: { authorization: 'Bearer abc' },
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'server_error' });
    expect(api.errors).toEqual([fault]);
    expect(api.seen).toEqual([]);
  });

  it('passes the scopes and audience options to verifyRequest with the request it built', async () => {
    const calls: unknown[][] = [];
    const api = await start({
      scopes: 'orders:read orders:write',
      audience: 'https://ledger.example.test/',
      resourceServer: {
        verifyRequest: (...args: unknown[]) => {
          calls.push(args);
          return Promise.resolve({ iss: idp.issuer, exp: 0, client_id: 'stub' });
        },
      },
    });
    const response = await fetch(`${api.origin}/api/orders/5?x=1`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(calls).toHaveLength(1);
    const [request, options] = calls[0] as [
      { method: string; url: string; headers: unknown },
      unknown,
    ];
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`${api.origin}/api/orders/5?x=1`);
    expect(options).toEqual({
      requiredScopes: ['orders:read', 'orders:write'],
      audience: ['https://ledger.example.test/'],
    });
  });
});
