/**
 * Mutual TLS end to end (RFC 8705): certificate-bound tokens from a real oidc-provider over its
 * mTLS alias endpoints, sent to real HTTPS resource servers (Express, Fastify, Hono on
 * @hono/node-server and plain node:https) that ask for client certificates, and the same behind
 * a TLS-terminating proxy that forwards the certificate in an RFC 9440 `Client-Cert` header.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServiceAuth as expressAuth } from '../../src/express.js';
import { requireServiceAuth as fastifyAuth } from '../../src/fastify.js';
import { requireServiceAuth as honoAuth, type ServiceAuthEnv } from '../../src/hono.js';
import { createAuthClient, OAuthError, type AuthClient } from '../../src/client.js';
import { OptionError } from '../../src/runtime/shared/options.js';
import {
  createResourceServer,
  requestFromNode,
  TokenError,
  type ResourceServer,
} from '../../src/server.js';
import { createMtlsFetch, type MtlsFetch } from '../../src/runtime/transport/mtls.js';
import type { ServiceAuthOptions } from '../../src/runtime/middleware/guard-options.js';
import { RESOURCES } from '../support/idp.js';
import {
  createTestPki,
  getOverTls,
  listenOnLoopback,
  resourceServerTls,
  type RunningServer,
  jwtPayload,
  MTLS_CLIENTS,
  postFormOverTls,
  startMtlsIdp,
  type MtlsTestIdp,
  type PlainResponse,
  type TestCertificate,
  type TestPki,
} from '../support/mtls.js';

let pki: TestPki;
let idp: MtlsTestIdp;
let serverFetch: MtlsFetch;
let resourceServer: ResourceServer;

beforeAll(async () => {
  pki = createTestPki();
  idp = await startMtlsIdp(pki);
  // The resource server's own calls to the IdP (discovery, JWKS) trust the test CA.
  serverFetch = createMtlsFetch({
    cert: pki.otherClient.cert,
    key: pki.otherClient.key,
    ca: pki.ca.cert,
  });
  resourceServer = createResourceServer({
    issuer: idp.issuer,
    audience: RESOURCES.jwt,
    fetch: serverFetch,
  });
});
afterAll(async () => {
  await serverFetch.close();
  await idp.close();
  pki.remove();
});

/** A token bound to `certificate`, fetched from the alias token endpoint with it. */
async function boundToken(
  certificate: TestCertificate,
  clientId: string = MTLS_CLIENTS.tlsClientAuth.clientId,
): Promise<string> {
  const answer = await postFormOverTls(
    idp.aliases.token_endpoint,
    { grant_type: 'client_credentials', client_id: clientId, resource: RESOURCES.jwt },
    { ca: pki.ca.cert, cert: certificate.cert, key: certificate.key },
  );
  expect(answer.status).toBe(200);
  const token = answer.body?.access_token as string;
  expect(jwtPayload(token).cnf).toEqual({ 'x5t#S256': certificate.thumbprint });
  return token;
}

function expressApp(options: ServiceAuthOptions): express.Express {
  const app = express();
  app.get('/orders', expressAuth(options), (req, res) => {
    res.json({ client_id: req.auth?.client_id });
  });
  return app;
}

const apis: Record<'express' | 'fastify' | 'hono' | 'node:https', () => Promise<RunningServer>> = {
  express: () =>
    listenOnLoopback(
      createHttpsServer(resourceServerTls(pki), expressApp({ resourceServer })),
      'https',
    ),
  fastify: async () => {
    const app = Fastify({ https: resourceServerTls(pki) });
    app.decorateRequest('auth', undefined);
    app.get('/orders', { preHandler: fastifyAuth({ resourceServer }) }, (request, reply) =>
      reply.send({ client_id: request.auth?.client_id }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { origin: `https://127.0.0.1:${port}`, close: () => app.close() };
  },
  hono: async () => {
    const app = new Hono<ServiceAuthEnv>();
    app.use('*', honoAuth({ resourceServer }));
    app.get('/orders', (c) => c.json({ client_id: c.get('auth').client_id }));
    app.onError((error) => {
      if (error instanceof HTTPException) return error.getResponse();
      throw error;
    });
    const server = serve({
      fetch: app.fetch,
      port: 0,
      hostname: '127.0.0.1',
      createServer: createHttpsServer,
      serverOptions: resourceServerTls(pki),
    }) as Server;
    await new Promise<void>((resolve) => {
      if (server.listening) resolve();
      else server.once('listening', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return {
      origin: `https://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
    };
  },
  'node:https': () =>
    listenOnLoopback(
      createHttpsServer(resourceServerTls(pki), (req, res) => {
        resourceServer.verifyRequest(requestFromNode(req)).then(
          (claims) => res.end(JSON.stringify({ client_id: claims.client_id })),
          (error: unknown) => {
            if (!(error instanceof TokenError)) throw error;
            res
              .writeHead(error.status, {
                'www-authenticate': error.wwwAuthenticate,
                'content-type': 'application/json',
              })
              .end(
                JSON.stringify({ error: error.error, error_description: error.errorDescription }),
              );
          },
        );
      }),
      'https',
    ),
};

function call(
  api: RunningServer,
  token: string,
  certificate: TestCertificate | undefined,
  headers: Record<string, string> = {},
): Promise<PlainResponse> {
  return getOverTls(`${api.origin}/orders`, {
    ca: pki.ca.cert,
    cert: certificate?.cert,
    key: certificate?.key,
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
}

function expectCertificateRefusal(answer: PlainResponse): void {
  expect(answer.status).toBe(401);
  expect(answer.body).toMatchObject({
    error: 'invalid_token',
    error_description: 'the token is bound to a client certificate',
  });
  expect(answer.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
}

/** `:base64(DER):`, as a TLS-terminating proxy forwards a certificate (RFC 9440 §2.2). */
const clientCertHeader = (certificate: TestCertificate) =>
  `:${Buffer.from(certificate.der).toString('base64')}:`;

describe.each(Object.keys(apis) as (keyof typeof apis)[])(
  'a certificate-bound token at an HTTPS resource server on %s',
  (name) => {
    let api: RunningServer;
    beforeAll(async () => {
      api = await apis[name]();
    });
    afterAll(async () => {
      await api.close();
    });

    it('is accepted with the certificate it is bound to, CA-issued or self-signed', async () => {
      const token = await boundToken(pki.client);
      const answer = await call(api, token, pki.client);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ client_id: MTLS_CLIENTS.tlsClientAuth.clientId });
      const selfSigned = await boundToken(pki.selfSigned, MTLS_CLIENTS.selfSigned.clientId);
      expect((await call(api, selfSigned, pki.selfSigned)).status).toBe(200);
    });

    it('is refused with 401 when replayed without a certificate or with another one', async () => {
      const token = await boundToken(pki.client);
      expectCertificateRefusal(await call(api, token, undefined));
      expectCertificateRefusal(await call(api, token, pki.otherClient));
      expectCertificateRefusal(await call(api, token, pki.selfSigned));
    });

    it('ignores a forged Client-Cert header: the certificate is the TLS connection’s', async () => {
      const token = await boundToken(pki.client);
      expectCertificateRefusal(
        await call(api, token, undefined, { 'client-cert': clientCertHeader(pki.client) }),
      );
      expectCertificateRefusal(
        await call(api, token, pki.otherClient, { 'client-cert': clientCertHeader(pki.client) }),
      );
    });
  },
);

describe('behind a TLS-terminating proxy that forwards Client-Cert', () => {
  let trusting: RunningServer;
  let plain: RunningServer;
  beforeAll(async () => {
    trusting = await listenOnLoopback(
      createHttpServer(expressApp({ resourceServer, clientCertificateHeader: 'client-cert' })),
      'http',
    );
    plain = await listenOnLoopback(createHttpServer(expressApp({ resourceServer })), 'http');
  });
  afterAll(async () => {
    await trusting.close();
    await plain.close();
  });

  async function get(api: RunningServer, token: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${api.origin}/orders`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  it('accepts the token with the forwarded certificate when clientCertificateHeader is set', async () => {
    const token = await boundToken(pki.client);
    const answer = await get(trusting, token, { 'client-cert': clientCertHeader(pki.client) });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ client_id: MTLS_CLIENTS.tlsClientAuth.clientId });
  });

  it('refuses the token with another forwarded certificate or none', async () => {
    const token = await boundToken(pki.client);
    expectCertificateRefusal(
      await get(trusting, token, { 'client-cert': clientCertHeader(pki.otherClient) }),
    );
    expectCertificateRefusal(await get(trusting, token));
  });

  it('refuses a forged Client-Cert header when the option is not set', async () => {
    const token = await boundToken(pki.client);
    expectCertificateRefusal(
      await get(plain, token, { 'client-cert': clientCertHeader(pki.client) }),
    );
  });

  it('answers a malformed Client-Cert header with 401 invalid_token', async () => {
    const token = await boundToken(pki.client);
    for (const value of [
      pki.client.cert.replace(/\n/g, ' '),
      `${clientCertHeader(pki.client)}, ${clientCertHeader(pki.otherClient)}`,
      ':bm90IGEgY2VydGlmaWNhdGU=:',
    ]) {
      const answer = await get(trusting, token, { 'client-cert': value });
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({
        error: 'invalid_token',
        error_description: 'the client certificate could not be read',
      });
    }
  });
});

describe('createAuthClient with mutual TLS against oidc-provider', () => {
  let api: RunningServer;
  const clients: AuthClient[] = [];
  beforeAll(async () => {
    api = await apis.express();
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await api.close();
  });

  function mtlsClient(
    certificate: TestCertificate,
    method: 'tls_client_auth' | 'self_signed_tls_client_auth',
    overrides: { tokenEndpoint?: string } = {},
  ): AuthClient {
    const client = createAuthClient({
      issuer: idp.issuer,
      clientId:
        method === 'tls_client_auth'
          ? MTLS_CLIENTS.tlsClientAuth.clientId
          : MTLS_CLIENTS.selfSigned.clientId,
      clientAuth: method,
      tls: { cert: certificate.cert, key: certificate.key, ca: pki.ca.cert },
      resource: RESOURCES.jwt,
      ...overrides,
    });
    clients.push(client);
    return client;
  }

  it.each([
    ['tls_client_auth', () => pki.client],
    ['self_signed_tls_client_auth', () => pki.selfSigned],
  ] as const)(
    'gets a token bound to its certificate from the alias token endpoint with %s',
    async (method, certificate) => {
      idp.resetRequests();
      const auth = mtlsClient(certificate(), method);
      const token = await auth.getAccessToken();
      expect(jwtPayload(token).cnf).toEqual({ 'x5t#S256': certificate().thumbprint });
      const tokenRequests = idp.aliasRequests.filter((request) => request.path === '/token');
      expect(tokenRequests).toHaveLength(1);
      expect(tokenRequests[0]?.clientCertificate).toBe(true);
      // Only the client id authenticates in the form: no secret, no assertion, no Basic header.
      expect(tokenRequests[0]?.headers.authorization).toBeUndefined();
    },
  );

  it('is refused by the IdP at the endpoint without the certificate, when told to use it', async () => {
    const auth = mtlsClient(pki.client, 'tls_client_auth', {
      tokenEndpoint: `${idp.issuer}/token`,
    });
    const error = await auth.getToken().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).code).toBe('invalid_client');
  });

  it('presents the certificate with auth.fetch, so the bound token is accepted, and only there', async () => {
    const auth = mtlsClient(pki.client, 'tls_client_auth');
    const response = await auth.fetch(`${api.origin}/orders`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ client_id: MTLS_CLIENTS.tlsClientAuth.clientId });
    // The same token from a connection with another certificate, or none, is refused.
    const token = await auth.getAccessToken();
    expectCertificateRefusal(await call(api, token, pki.otherClient));
    expectCertificateRefusal(await call(api, token, undefined));
  });

  it('sends self_signed_tls_client_auth tokens to the resource server with their certificate', async () => {
    const auth = mtlsClient(pki.selfSigned, 'self_signed_tls_client_auth');
    const response = await auth.fetch(`${api.origin}/orders`);
    expect(response.status).toBe(200);
  });
});

describe('the mutual TLS options of createAuthClient', () => {
  const tls = () => ({ cert: pki.client.cert, key: pki.client.key });
  const base = { issuer: 'https://idp.example.test', clientId: 'orders-mtls' };

  function optionError(run: () => unknown): OptionError {
    let error: unknown;
    try {
      run();
    } catch (failure) {
      error = failure;
    }
    expect(error).toBeInstanceOf(OptionError);
    return error as OptionError;
  }

  it('requires tls with a TLS method unless a fetch is given', () => {
    for (const clientAuth of ['tls_client_auth', 'self_signed_tls_client_auth'] as const) {
      const error = optionError(() => createAuthClient({ ...base, clientAuth }));
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'tls' });
      expect(error.message).toContain(clientAuth);
    }
    const withFetch = createAuthClient({
      ...base,
      clientAuth: 'tls_client_auth',
      fetch: () => Promise.resolve(new Response(null, { status: 500 })),
    });
    withFetch.close();
  });

  it('refuses tls together with fetch', () => {
    const error = optionError(() =>
      createAuthClient({
        ...base,
        clientAuth: 'tls_client_auth',
        tls: tls(),
        fetch: () => Promise.resolve(new Response(null)),
      }),
    );
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'tls' });
    expect(error.message).toMatch(/not both/);
  });

  it('refuses tls with a method that does not authenticate by certificate', () => {
    const error = optionError(() =>
      createAuthClient({ ...base, clientSecret: 'secret', tls: tls() }),
    );
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'tls' });
    expect(error.message).toContain('client_secret_basic');
  });

  it('refuses a tls option whose certificate is not PEM, without quoting the key', () => {
    const key = pki.client.key;
    const error = optionError(() =>
      createAuthClient({
        ...base,
        clientAuth: 'tls_client_auth',
        tls: { cert: 'not a certificate', key },
      }),
    );
    expect(error.option).toBe('tls.cert');
    expect(error.message).not.toContain(key.slice(40, 80));
  });
});

describe('a TLS method with a fetch of its own (Workers, Bun, Deno)', () => {
  const ISSUER = 'https://idp.example.test';
  const ALIAS = 'https://mtls.idp.example.test/token';

  function fakeIdp(metadata: Record<string, unknown>) {
    const seen: { url: string; body: string; dpop: string | null; authorization: string | null }[] =
      [];
    const fetch = async (input: Request) => {
      const body = await input.text();
      seen.push({
        url: input.url,
        body,
        dpop: input.headers.get('dpop'),
        authorization: input.headers.get('authorization'),
      });
      if (new URL(input.url).pathname.startsWith('/.well-known/')) {
        return Response.json({ issuer: ISSUER, token_endpoint: `${ISSUER}/token`, ...metadata });
      }
      return Response.json({
        access_token: 'bound-token',
        token_type: input.headers.has('dpop') ? 'DPoP' : 'Bearer',
        expires_in: 300,
      });
    };
    return { fetch, seen };
  }

  it('sends the token request to the alias with only client_id, and signs the alias as htu', async () => {
    const idpFake = fakeIdp({ mtls_endpoint_aliases: { token_endpoint: ALIAS } });
    const auth = createAuthClient({
      issuer: ISSUER,
      clientId: 'orders-mtls',
      clientAuth: 'tls_client_auth',
      fetch: idpFake.fetch,
      dpop: true,
    });
    await auth.getAccessToken();
    auth.close();
    const tokenRequest = idpFake.seen.find((request) => request.body !== '');
    expect(tokenRequest?.url).toBe(ALIAS);
    expect(new URLSearchParams(tokenRequest?.body)).toEqual(
      new URLSearchParams({ grant_type: 'client_credentials', client_id: 'orders-mtls' }),
    );
    expect(tokenRequest?.authorization).toBeNull();
    expect(jwtPayload(tokenRequest?.dpop ?? '').htu).toBe(ALIAS);
  });

  it('uses the plain token endpoint when no alias is published, and an explicit one over the alias', async () => {
    const plain = fakeIdp({});
    const auth = createAuthClient({
      issuer: ISSUER,
      clientId: 'orders-mtls',
      clientAuth: 'self_signed_tls_client_auth',
      fetch: plain.fetch,
    });
    await auth.getAccessToken();
    expect(plain.seen.find((request) => request.body !== '')?.url).toBe(`${ISSUER}/token`);

    const aliased = fakeIdp({ mtls_endpoint_aliases: { token_endpoint: ALIAS } });
    const explicit = createAuthClient({
      issuer: ISSUER,
      clientId: 'orders-mtls',
      clientAuth: 'tls_client_auth',
      fetch: aliased.fetch,
      tokenEndpoint: 'https://override.example.test/token',
    });
    await explicit.getAccessToken();
    expect(aliased.seen.map((request) => request.url)).toEqual([
      'https://override.example.test/token',
    ]);
  });

  it('keeps using the plain endpoints for a client that does not authenticate by certificate', async () => {
    const aliased = fakeIdp({ mtls_endpoint_aliases: { token_endpoint: ALIAS } });
    const auth = createAuthClient({
      issuer: ISSUER,
      clientId: 'orders',
      clientSecret: 'secret',
      fetch: aliased.fetch,
    });
    await auth.getAccessToken();
    expect(aliased.seen.find((request) => request.body !== '')?.url).toBe(`${ISSUER}/token`);
  });
});
