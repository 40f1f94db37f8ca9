/**
 * The same small orders API on each framework, run as a real server on 127.0.0.1 and guarded by
 * that framework's `requireServiceAuth`. Routes sit under `/api`, mounted the way each framework
 * mounts a sub-application (an Express router, a Hono sub-app, a Fastify plugin with a prefix),
 * so the URL a DPoP proof is checked against must be the full path the client called.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { HTTPException } from 'hono/http-exception';
import { Hono } from 'hono';
import { expectTypeOf } from 'vitest';
import { requireServiceAuth as expressAuth } from '../../../../src/express.js';
import { requireServiceAuth as fastifyAuth } from '../../../../src/fastify.js';
import { requireServiceAuth as honoAuth, type ServiceAuthEnv } from '../../../../src/hono.js';
import {
  requestFromNode,
  TokenError,
  type AccessTokenClaims,
  type NodeRequestOptions,
  type ResourceServer,
} from '../../../../src/server.js';
import type { ServiceAuthOptions } from '../../../../src/runtime/middleware/guard-options.js';

export type FrameworkName = 'hono' | 'express' | 'fastify';

/** What the guarded handler answers: only what it read from the verified claims. */
export interface OrdersAnswer {
  id: string;
  client_id: string | null;
  scope: string | string[] | null;
  jkt: string | null;
}

export interface RunningApi {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Requests that reached the API (before the middleware). */
  hits: number;
  /** The claims each guarded handler saw, in order. */
  seen: AccessTokenClaims[];
  /** Errors that reached the framework's error handler. */
  errors: unknown[];
  close(): Promise<void>;
}

interface Recorder {
  hits: number;
  seen: AccessTokenClaims[];
  errors: unknown[];
}

function answer(id: string, claims: AccessTokenClaims, recorder: Recorder): OrdersAnswer {
  recorder.seen.push(claims);
  return {
    id,
    client_id: claims.client_id ?? null,
    scope: claims.scope ?? null,
    jkt: claims.cnf?.jkt ?? null,
  };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function startHono(options: ServiceAuthOptions): Promise<RunningApi> {
  const recorder: Recorder = { hits: 0, seen: [], errors: [] };
  const api = new Hono<ServiceAuthEnv>();
  api.use('*', requireServiceAuthCounted(recorder, honoAuth(options)));
  api.get('/orders/:id', (c) => {
    expectTypeOf(c.get('auth')).toEqualTypeOf<AccessTokenClaims>();
    return c.json(answer(c.req.param('id'), c.get('auth'), recorder));
  });
  api.post('/orders/:id', (c) => c.json(answer(c.req.param('id'), c.get('auth'), recorder)));

  const app = new Hono();
  app.route('/api', api);
  // Hono's habit for an app-wide error handler: an HTTPException carries its own answer.
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    recorder.errors.push(error);
    return c.json({ error: 'server_error' }, 500);
  });

  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((resolve) => {
    if (server.listening) resolve();
    else server.once('listening', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return running(recorder, `http://127.0.0.1:${port}`, () => closeServer(server));
}

/** Counts requests before they reach the auth middleware. */
function requireServiceAuthCounted(
  recorder: Recorder,
  middleware: ReturnType<typeof honoAuth>,
): ReturnType<typeof honoAuth> {
  return (c, next) => {
    recorder.hits += 1;
    return middleware(c, next);
  };
}

async function startExpress(options: ServiceAuthOptions): Promise<RunningApi> {
  const recorder: Recorder = { hits: 0, seen: [], errors: [] };
  const router = express.Router();
  router.use((_req, _res, next) => {
    recorder.hits += 1;
    next();
  });
  router.use(expressAuth(options));
  router.all('/orders/:id', (req, res) => {
    expectTypeOf(req.auth).toEqualTypeOf<AccessTokenClaims | undefined>();
    if (req.auth === undefined)
      throw new Error('the middleware let a request through without claims');
    res.json(answer(req.params.id, req.auth, recorder));
  });

  const app = express();
  app.use('/api', router);
  app.use(
    (error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      recorder.errors.push(error);
      res.status(500).json({ error: 'server_error' });
    },
  );
  const server = createServer(app);
  const origin = await listen(server);
  return running(recorder, origin, () => closeServer(server));
}

async function startFastify(options: ServiceAuthOptions): Promise<RunningApi> {
  const recorder: Recorder = { hits: 0, seen: [], errors: [] };
  const app = Fastify();
  app.decorateRequest('auth', undefined);
  app.setErrorHandler((error, _request, reply) => {
    recorder.errors.push(error);
    return reply.code(500).send({ error: 'server_error' });
  });
  await app.register(
    async (api) => {
      api.addHook('onRequest', async () => {
        recorder.hits += 1;
      });
      api.addHook('preHandler', fastifyAuth(options));
      const handler = async (request: { params: { id: string }; auth?: AccessTokenClaims }) => {
        if (request.auth === undefined)
          throw new Error('the middleware let a request through without claims');
        return answer(request.params.id, request.auth, recorder);
      };
      api.get<{ Params: { id: string } }>('/orders/:id', async (request) => {
        expectTypeOf(request.auth).toEqualTypeOf<AccessTokenClaims | undefined>();
        return handler(request);
      });
      api.post<{ Params: { id: string } }>('/orders/:id', handler);
    },
    { prefix: '/api' },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return running(recorder, `http://127.0.0.1:${port}`, async () => {
    app.server.closeAllConnections();
    await app.close();
  });
}

function running(recorder: Recorder, origin: string, close: () => Promise<void>): RunningApi {
  return {
    origin,
    get hits() {
      return recorder.hits;
    },
    seen: recorder.seen,
    errors: recorder.errors,
    close,
  };
}

/**
 * The README's plain `node:http` wiring: `verifyRequest(requestFromNode(req))` and the
 * `TokenError`'s status and challenge written back by hand. Every path is guarded.
 */
export async function startNodeHttp(
  resourceServer: Pick<ResourceServer, 'verifyRequest'>,
  options: NodeRequestOptions = {},
): Promise<RunningApi> {
  const recorder: Recorder = { hits: 0, seen: [], errors: [] };
  const server = createServer((req, res) => {
    recorder.hits += 1;
    const send = (status: number, headers: Record<string, string>, body: unknown) =>
      res
        .writeHead(status, { 'content-type': 'application/json', ...headers })
        .end(JSON.stringify(body));
    resourceServer.verifyRequest(requestFromNode(req, options)).then(
      (claims) => send(200, {}, answer(req.url?.split('/').at(-1) ?? '', claims, recorder)),
      (error: unknown) => {
        if (!(error instanceof TokenError)) {
          recorder.errors.push(error);
          send(500, {}, { error: 'server_error' });
          return;
        }
        const headers: Record<string, string> = { 'cache-control': 'no-store' };
        if (error.status === 503) headers['retry-after'] = String(error.retryAfter);
        else headers['www-authenticate'] = error.wwwAuthenticate;
        if (error.dpopNonce) headers['dpop-nonce'] = error.dpopNonce;
        send(error.status, headers, {
          error: error.error,
          error_description: error.errorDescription,
        });
      },
    );
  });
  const origin = await listen(server);
  return running(recorder, origin, () => closeServer(server));
}

export const frameworks: Record<
  FrameworkName,
  (options: ServiceAuthOptions) => Promise<RunningApi>
> = {
  hono: startHono,
  express: startExpress,
  fastify: startFastify,
};
