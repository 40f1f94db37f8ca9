/**
 * Type-level checks, run as type tests by vitest's typecheck (see vitest.config.ts) and by
 * `tsc -p tsconfig.json`; the assertions are no-ops at run time. Each middleware has its
 * framework's type, and the claims reach handlers typed.
 */
import type { Request, RequestHandler } from 'express';
import express from 'express';
import Fastify, { type FastifyRequest, type preHandlerAsyncHookHandler } from 'fastify';
import { Hono, type MiddlewareHandler } from 'hono';
import { describe, expectTypeOf, it } from 'vitest';
import * as expressEntry from '../../../src/express.js';
import * as fastifyEntry from '../../../src/fastify.js';
import * as honoEntry from '../../../src/hono.js';
import { createResourceServer, type AccessTokenClaims } from '../../../src/server.js';

const resourceServer = createResourceServer({
  issuer: 'https://idp.example.test',
  audience: 'https://api.example.test',
});

describe('types', () => {
  it('Hono: a middleware whose environment types c.get("auth")', () => {
    const middleware = honoEntry.requireServiceAuth({ resourceServer });
    expectTypeOf(middleware).toExtend<MiddlewareHandler<honoEntry.ServiceAuthEnv>>();
    expectTypeOf<honoEntry.ServiceAuthVariables['auth']>().toEqualTypeOf<AccessTokenClaims>();

    // On a route, Hono infers the environment from the middleware.
    new Hono().get('/orders', middleware, (c) => {
      expectTypeOf(c.get('auth')).toEqualTypeOf<AccessTokenClaims>();
      expectTypeOf(c.get('auth').client_id).toEqualTypeOf<string | undefined>();
      expectTypeOf(c.get('auth').cnf).toEqualTypeOf<
        { jkt?: string; 'x5t#S256'?: string; [member: string]: unknown } | undefined
      >();
      return c.text('ok');
    });

    // With app.use, the app is declared with the environment.
    const app = new Hono<honoEntry.ServiceAuthEnv>();
    app.use(middleware);
    app.get('/orders', (c) => c.text(c.get('auth').iss));

    // Beside the app's own bindings and variables.
    interface AppEnv {
      Bindings: { ORDERS_TABLE: string };
      Variables: honoEntry.ServiceAuthVariables & { requestId: string };
    }
    const combined = new Hono<AppEnv>();
    combined.use(middleware);
    combined.get('/orders', (c) => {
      expectTypeOf(c.get('requestId')).toEqualTypeOf<string>();
      return c.text(c.get('auth').iss);
    });
  });

  it('Express: a RequestHandler, and req.auth through Express.Request', () => {
    const middleware = expressEntry.requireServiceAuth({ resourceServer });
    expectTypeOf(middleware).toEqualTypeOf<RequestHandler>();
    expectTypeOf<Request['auth']>().toEqualTypeOf<AccessTokenClaims | undefined>();

    const app = express();
    app.use(middleware);
    app.get('/orders/:id', middleware, (req, res) => {
      expectTypeOf(req.auth).toEqualTypeOf<AccessTokenClaims | undefined>();
      res.json({ caller: req.auth?.client_id });
    });
    express.Router().use('/orders', middleware);
  });

  it('Fastify: a preHandler hook, and request.auth through FastifyRequest', () => {
    const hook = fastifyEntry.requireServiceAuth({ resourceServer });
    expectTypeOf(hook).toEqualTypeOf<preHandlerAsyncHookHandler>();
    expectTypeOf<FastifyRequest['auth']>().toEqualTypeOf<AccessTokenClaims | undefined>();

    const app = Fastify();
    app.addHook('preHandler', hook);
    app.get('/orders', { preHandler: hook }, async (request) => {
      expectTypeOf(request.auth).toEqualTypeOf<AccessTokenClaims | undefined>();
      return { caller: request.auth?.client_id };
    });
    // Routes with their own generics take the hook too, alone or in a list.
    app.get<{ Params: { id: string }; Querystring: { expand?: string } }>(
      '/orders/:id',
      { preHandler: [hook] },
      async (request) => ({ id: request.params.id, caller: request.auth?.sub }),
    );
  });

  it('options: resourceServer is required and scopes are strings', () => {
    expectTypeOf<honoEntry.ServiceAuthOptions>().toHaveProperty('resourceServer');
    // Compiled, never called: each would throw its TypeError at run time.
    const misuse = () => {
      // @ts-expect-error resourceServer is required
      honoEntry.requireServiceAuth({ scopes: 'orders:read' });
      // @ts-expect-error scopes are a string or a list of strings
      expressEntry.requireServiceAuth({ resourceServer, scopes: 42 });
      // @ts-expect-error trustProxy is a boolean
      fastifyEntry.requireServiceAuth({ resourceServer, trustProxy: 'loopback' });
    };
    expectTypeOf(misuse).toBeFunction();
    // Anything with verifyRequest serves, such as a stub in a test.
    honoEntry.requireServiceAuth({
      resourceServer: { verifyRequest: async () => ({ iss: 'https://idp.example.test', exp: 0 }) },
    });
  });
});
