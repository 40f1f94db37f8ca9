/**
 * The express-oauth2-jwt-bearer habit on each framework, as a real server on 127.0.0.1: one
 * `requireServiceAuth` for every route under `/api`, then a guard per route. The per-route
 * guard is `requireScopes` or a second `requireServiceAuth` with scopes, as the test asks.
 * `/unguarded` has `requireScopes` without any `requireServiceAuth` ahead of it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { HTTPException } from 'hono/http-exception';
import { Hono } from 'hono';
import * as expressEntry from '../../../../src/express.js';
import * as fastifyEntry from '../../../../src/fastify.js';
import * as honoEntry from '../../../../src/hono.js';
import type { ServiceAuthEnv } from '../../../../src/hono.js';
import type { AccessTokenClaims, ResourceServer } from '../../../../src/server.js';

export type RouteGuard = 'requireScopes' | 'requireServiceAuth';

export interface StackedApi {
  origin: string;
  /** The claims each handler saw. */
  seen: AccessTokenClaims[];
  /** Errors that reached the framework's error handler. */
  errors: unknown[];
  close(): Promise<void>;
}

/** The scope each route asks for. */
export const ROUTES = {
  read: { path: '/api/orders/1', scope: 'orders:read' },
  admin: { path: '/api/admin', scope: 'orders:admin' },
  unguarded: { path: '/unguarded', scope: 'orders:read' },
} as const;

interface Entry<Handler> {
  requireServiceAuth(options: {
    resourceServer: Pick<ResourceServer, 'verifyRequest'>;
    scopes?: string;
  }): Handler;
  requireScopes(scopes: string): Handler;
}

function routeGuard<Handler>(
  entry: Entry<Handler>,
  guard: RouteGuard,
  resourceServer: Pick<ResourceServer, 'verifyRequest'>,
  scope: string,
): Handler {
  return guard === 'requireScopes'
    ? entry.requireScopes(scope)
    : entry.requireServiceAuth({ resourceServer, scopes: scope });
}

function listening(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    const done = () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    if (server.listening) done();
    else {
      server.once('error', reject);
      server.once('listening', done);
    }
  });
}

function closing(server: Server): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

async function startHono(
  resourceServer: Pick<ResourceServer, 'verifyRequest'>,
  guard: RouteGuard,
): Promise<StackedApi> {
  const seen: AccessTokenClaims[] = [];
  const errors: unknown[] = [];
  const app = new Hono<ServiceAuthEnv>();
  app.use('/api/*', honoEntry.requireServiceAuth({ resourceServer }));
  for (const route of [ROUTES.read, ROUTES.admin]) {
    app.get(route.path, routeGuard(honoEntry, guard, resourceServer, route.scope), (c) => {
      seen.push(c.get('auth'));
      return c.json({ client_id: c.get('auth').client_id ?? null });
    });
  }
  app.get(ROUTES.unguarded.path, honoEntry.requireScopes(ROUTES.unguarded.scope), (c) =>
    c.json({ client_id: c.get('auth').client_id ?? null }),
  );
  // Hono's habit for an app-wide error handler: an HTTPException carries its own answer.
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    errors.push(error);
    return c.json({ error: 'server_error' }, 500);
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  return { origin: await listening(server), seen, errors, close: closing(server) };
}

async function startExpress(
  resourceServer: Pick<ResourceServer, 'verifyRequest'>,
  guard: RouteGuard,
): Promise<StackedApi> {
  const seen: AccessTokenClaims[] = [];
  const errors: unknown[] = [];
  const app = express();
  app.use('/api', expressEntry.requireServiceAuth({ resourceServer }));
  for (const route of [ROUTES.read, ROUTES.admin]) {
    app.get(
      route.path,
      routeGuard(expressEntry, guard, resourceServer, route.scope),
      (req, res) => {
        if (req.auth === undefined) throw new Error('no claims');
        seen.push(req.auth);
        res.json({ client_id: req.auth.client_id ?? null });
      },
    );
  }
  app.get(
    ROUTES.unguarded.path,
    expressEntry.requireScopes(ROUTES.unguarded.scope),
    (_req, res) => {
      res.json({ reached: true });
    },
  );
  app.use(
    (error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(error);
      res.status(500).json({ error: 'server_error' });
    },
  );
  const server = createServer(app);
  server.listen(0, '127.0.0.1');
  return { origin: await listening(server), seen, errors, close: closing(server) };
}

async function startFastify(
  resourceServer: Pick<ResourceServer, 'verifyRequest'>,
  guard: RouteGuard,
): Promise<StackedApi> {
  const seen: AccessTokenClaims[] = [];
  const errors: unknown[] = [];
  const app = Fastify();
  app.decorateRequest('auth', undefined);
  app.setErrorHandler((error, _request, reply) => {
    errors.push(error);
    return reply.code(500).send({ error: 'server_error' });
  });
  await app.register(
    async (api) => {
      api.addHook('preHandler', fastifyEntry.requireServiceAuth({ resourceServer }));
      for (const route of [ROUTES.read, ROUTES.admin]) {
        api.get(
          route.path.replace(/^\/api/, ''),
          { preHandler: routeGuard(fastifyEntry, guard, resourceServer, route.scope) },
          async (request) => {
            if (request.auth === undefined) throw new Error('no claims');
            seen.push(request.auth);
            return { client_id: request.auth.client_id ?? null };
          },
        );
      }
    },
    { prefix: '/api' },
  );
  app.get(
    ROUTES.unguarded.path,
    { preHandler: fastifyEntry.requireScopes(ROUTES.unguarded.scope) },
    async () => ({ reached: true }),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    origin: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    seen,
    errors,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

export const stackedFrameworks = {
  hono: startHono,
  express: startExpress,
  fastify: startFastify,
};
