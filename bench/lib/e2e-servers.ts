/**
 * The server side of the end-to-end suite, run in a process of its own so that the load
 * generator and the servers each have a core: a local issuer (discovery and JWKS over HTTP on
 * 127.0.0.1) and one Express, one Hono and one Fastify app, each with the same route
 * (`GET …/orders/42`) unguarded, guarded by s2s-auth's middleware, and guarded by that
 * framework's usual JWT middleware.
 *
 * Every guarded handler checks that its middleware handed it the claims and answers 500
 * otherwise, so a middleware that let a request through without verifying it would show up as
 * errors in the load run, not as speed.
 */
import { createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt';
import { serve, type ServerType } from '@hono/node-server';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import fastify from 'fastify';
import buildGetJwks from 'get-jwks';
import { Hono, type Context } from 'hono';
import { jwk } from 'hono/jwk';
import { requireServiceAuth as expressServiceAuth } from '../../src/express.js';
import { requireServiceAuth as fastifyServiceAuth } from '../../src/fastify.js';
import { requireServiceAuth as honoServiceAuth } from '../../src/hono.js';
import type { AccessTokenClaims } from '../../src/server.js';
import { AUDIENCE, loadBuilds } from './fixtures.js';

/** What the load generator sends the server process, and what it answers. */
export type ServerMessage =
  { type: 'start'; jwks: { keys: JsonWebKey[] } } | { type: 'gc' } | { type: 'stop' };
export type ServerReply =
  { type: 'ready'; issuer: string; origins: Record<Framework, string> } | { type: 'gc-done' };

export type Framework = 'express' | 'hono' | 'fastify';

/** The routes every framework's app has, by the prefix of their path. */
export const ROUTES = {
  express: ['open', 's2s', 'oauth2-jwt-bearer'],
  hono: ['open', 's2s', 's2s-web', 'jwk-keys', 'jwk-uri'],
  fastify: ['open', 's2s', 'fastify-jwt', 'fastify-jwt-pem', 'fastify-jwt-pem-cached'],
} as const satisfies Record<Framework, readonly string[]>;

export const routePath = (route: string): string => `/${route}/orders/42`;

/** The answer of every route: the same bytes whether guarded or not. */
const BODY = { id: '42' };

/**
 * express-oauth2-jwt-bearer's type declarations give `Express.Request.auth` another type than
 * s2s-auth/express does, and global declarations cannot differ within one program, so its
 * module is loaded without them, through this much of its surface.
 */
interface OAuth2JwtBearer {
  auth(options: {
    issuer: string;
    jwksUri: string;
    audience: string;
    tokenSigningAlg: string;
    strict: boolean;
    dpop: { enabled: boolean; required: boolean };
  }): RequestHandler;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

/** Discovery (both well-known documents) and the key set, as an issuer serves them. */
async function startIssuer(jwks: {
  keys: JsonWebKey[];
}): Promise<{ issuer: string; server: Server }> {
  let issuer = '';
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const body =
      path === '/jwks' || path === '/.well-known/jwks.json'
        ? jwks
        : path === '/.well-known/oauth-authorization-server' ||
            path === '/.well-known/openid-configuration'
          ? { issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token` }
          : undefined;
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { error: 'not_found' }));
  });
  issuer = await listen(server);
  return { issuer, server };
}

async function startExpress(issuer: string, builds: Awaited<ReturnType<typeof loadBuilds>>) {
  const resourceServer = builds.node.createResourceServer({ issuer, audience: AUDIENCE });
  const { auth } = createRequire(import.meta.url)('express-oauth2-jwt-bearer') as OAuth2JwtBearer;
  const app = express();
  app.disable('x-powered-by');
  app.get(routePath('open'), (_req, res) => {
    res.json(BODY);
  });
  app.get(routePath('s2s'), expressServiceAuth({ resourceServer }), (req, res) => {
    res.status(req.auth?.client_id === undefined ? 500 : 200).json(BODY);
  });
  app.get(
    routePath('oauth2-jwt-bearer'),
    auth({
      issuer,
      jwksUri: `${issuer}/jwks`,
      audience: AUDIENCE,
      tokenSigningAlg: 'ES256',
      // RFC 9068: typ at+jwt and the required claims; DPoP on, Bearer still accepted.
      strict: true,
      dpop: { enabled: true, required: false },
    }),
    (req, res) => {
      const claims = (req as { auth?: { payload?: { client_id?: unknown } } }).auth?.payload;
      res.status(claims?.client_id === undefined ? 500 : 200).json(BODY);
    },
  );
  // The answer the library's errors ask for (status and challenge), instead of Express's HTML.
  const answerErrors: ErrorRequestHandler = (error, _req, res, _next) => {
    const { status, headers } = error as { status?: number; headers?: Record<string, string> };
    res
      .status(status ?? 500)
      .set(headers ?? {})
      .json({ error: status === undefined ? 'server_error' : 'invalid_token' });
  };
  app.use(answerErrors);
  const server = createServer(app);
  return { origin: await listen(server), close: () => server.close() };
}

async function startHono(issuer: string, builds: Awaited<ReturnType<typeof loadBuilds>>) {
  const nodeServer = builds.node.createResourceServer({ issuer, audience: AUDIENCE });
  const webServer = builds.web.createResourceServer({ issuer, audience: AUDIENCE });
  // What an application does so that Hono's jwk middleware does not fetch the key set for
  // every request: fetch it once at start-up and hand over the keys.
  const keys = ((await (await fetch(`${issuer}/jwks`)).json()) as { keys: never[] }).keys;
  const verification = { iss: issuer, aud: AUDIENCE, typ: 'at+jwt' };
  const app = new Hono<{
    Variables: { auth: AccessTokenClaims; jwtPayload: { client_id?: unknown } };
  }>();
  const answer = (ok: boolean) => (c: Context) => c.json(BODY, ok ? 200 : 500);
  app.get(routePath('open'), (c) => c.json(BODY));
  app.get(routePath('s2s'), honoServiceAuth({ resourceServer: nodeServer }), (c) =>
    answer(c.get('auth').client_id !== undefined)(c),
  );
  app.get(routePath('s2s-web'), honoServiceAuth({ resourceServer: webServer }), (c) =>
    answer(c.get('auth').client_id !== undefined)(c),
  );
  app.get(routePath('jwk-keys'), jwk({ keys, alg: ['ES256'], verification }), (c) =>
    answer(c.get('jwtPayload').client_id !== undefined)(c),
  );
  app.get(
    routePath('jwk-uri'),
    jwk({ jwks_uri: `${issuer}/jwks`, alg: ['ES256'], verification }),
    (c) => answer(c.get('jwtPayload').client_id !== undefined)(c),
  );
  const server = await new Promise<{ origin: string; server: ServerType }>((resolve) => {
    const running: ServerType = serve(
      { fetch: app.fetch, hostname: '127.0.0.1', port: 0 },
      (info) => resolve({ origin: `http://127.0.0.1:${info.port}`, server: running }),
    );
  });
  return { origin: server.origin, close: () => server.server.close() };
}

async function startFastify(issuer: string, builds: Awaited<ReturnType<typeof loadBuilds>>) {
  const resourceServer = builds.node.createResourceServer({ issuer, audience: AUDIENCE });
  const app = fastify();
  app.decorateRequest('auth', undefined);
  app.get(routePath('open'), async () => BODY);
  app.get(
    routePath('s2s'),
    { preHandler: fastifyServiceAuth({ resourceServer }) },
    async (request, reply) =>
      reply.code(request.auth?.client_id === undefined ? 500 : 200).send(BODY),
  );
  // @fastify/jwt with get-jwks. As get-jwks documents it, `getPublicKey` for every request:
  // that converts the cached JWK to PEM each time with jwk-to-pem, whose pure-JavaScript
  // elliptic-curve code takes milliseconds for a P-256 key. The `-pem` routes keep the PEM of
  // each JWK get-jwks hands out (so it still follows get-jwks' cache and its expiry), as an
  // application that noticed would; the last one also turns on fast-jwt's verified-token cache
  // (off by default), for the repeated-token case.
  const getJwks = buildGetJwks({ issuersWhitelist: [issuer], jwksPath: '/jwks' });
  const pems = new WeakMap<object, string>();
  const keptPem = async (kid: string, alg: string) => {
    const key = await getJwks.getJwk({ kid, alg, domain: issuer });
    let pem = pems.get(key);
    if (pem === undefined) {
      pem = createPublicKey({ key: key as never, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
      pems.set(key, pem);
    }
    return pem;
  };
  for (const [route, keepPem, cache] of [
    ['fastify-jwt', false, false],
    ['fastify-jwt-pem', true, false],
    ['fastify-jwt-pem-cached', true, true],
  ] as const) {
    await app.register(async (scope) => {
      await scope.register(fastifyJwt, {
        decode: { complete: true },
        secret: (_request: unknown, token: TokenOrHeader) => {
          const { kid, alg } = (token as { header: { kid: string; alg: string } }).header;
          return keepPem ? keptPem(kid, alg) : getJwks.getPublicKey({ kid, alg, domain: issuer });
        },
        verify: {
          algorithms: ['ES256'],
          allowedIss: issuer,
          allowedAud: AUDIENCE,
          checkTyp: 'at+jwt',
          cache,
        },
      });
      scope.addHook('onRequest', async (request) => {
        await request.jwtVerify();
      });
      scope.get(routePath(route), async (request, reply) =>
        reply
          .code((request.user as { client_id?: unknown }).client_id === undefined ? 500 : 200)
          .send(BODY),
      );
    });
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** The server process: waits for the key set, starts everything, answers on IPC. */
export async function runServerProcess(): Promise<void> {
  const send = (reply: ServerReply) => process.send?.(reply);
  const collect = (globalThis as { gc?: () => void }).gc;
  const closers: (() => unknown)[] = [];
  // A load generator that went away (stopped, killed) takes this process with it.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: ServerMessage) => void onMessage(message));
  async function onMessage(message: ServerMessage) {
    if (message.type === 'gc') {
      collect?.();
      send({ type: 'gc-done' });
    } else if (message.type === 'stop') {
      for (const close of closers) await close();
      process.exit(0);
    } else if (message.type === 'start') {
      const builds = await loadBuilds();
      const { issuer, server } = await startIssuer(message.jwks);
      closers.push(() => server.close());
      const [expressApp, honoApp, fastifyApp] = await Promise.all([
        startExpress(issuer, builds),
        startHono(issuer, builds),
        startFastify(issuer, builds),
      ]);
      closers.push(expressApp.close, honoApp.close, fastifyApp.close);
      send({
        type: 'ready',
        issuer,
        origins: { express: expressApp.origin, hono: honoApp.origin, fastify: fastifyApp.origin },
      });
    }
  }
}
