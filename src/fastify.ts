/**
 * Service-to-service authentication for Fastify (4 and 5): a `preHandler` hook that verifies
 * the access token (and DPoP proof) of each request with a resource server and hands the
 * claims to the handler as `request.auth`. It imports nothing from `fastify` at run time.
 *
 * @module s2s-auth/fastify
 */
import type { FastifyReply, preHandlerAsyncHookHandler } from 'fastify';
import {
  authenticate,
  authorizeScopes,
  resolveGuardScopes,
  type AuthenticationOutcome,
} from './runtime/middleware/authenticate.js';
import {
  resolveServiceAuthOptions,
  type ServiceAuthOptions,
} from './runtime/middleware/guard-options.js';
import { nodeRequestParts } from './runtime/middleware/node-request.js';
import type { AccessTokenClaims } from './runtime/server/jwt-verify.js';

export type { ServiceAuthOptions } from './runtime/middleware/guard-options.js';
export type { AccessTokenClaims } from './runtime/server/jwt-verify.js';
export * from './runtime/errors.js';
export * from './runtime/token-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The claims of the verified access token, set by `requireServiceAuth` from
     * `s2s-auth/fastify`; `undefined` on routes it does not guard.
     */
    auth?: AccessTokenClaims;
  }
}

/**
 * A Fastify `preHandler` hook that lets a request through only with a valid access token:
 * `Bearer`, or `DPoP` with a proof for this method and URL. The verified claims are
 * `request.auth`. Use it on a route (`{ preHandler: hook }`) or for every route of a plugin
 * (`app.addHook('preHandler', hook)`); `app.decorateRequest('auth', null)` beforehand keeps
 * request objects of one shape.
 *
 * A rejected request is answered at once with the resource server's status (401, or 403 for a
 * missing scope), its `WWW-Authenticate` challenge, `DPoP-Nonce` when the proof must carry a
 * nonce, `Cache-Control: no-store` and a JSON body `{ error, error_description }`; the token is
 * never echoed. Any other failure is thrown to Fastify's error handler.
 *
 * The DPoP proof is checked against the URL built from the connection's scheme, the `Host`
 * header and the URL the client asked for (before any `rewriteUrl`). Fastify's `trustProxy`
 * setting is not consulted: behind a proxy, set `publicOrigin` (or `trustProxy`). Bad options
 * throw a `TypeError` here.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createResourceServer } from 's2s-auth/server';
 * import { requireServiceAuth } from 's2s-auth/fastify';
 *
 * const resourceServer = createResourceServer({
 *   issuer: 'https://idp.example.com',
 *   audience: 'https://orders.example.com',
 * });
 *
 * const app = Fastify();
 * app.get(
 *   '/orders/:id',
 *   { preHandler: requireServiceAuth({ resourceServer, requiredScopes: 'orders:read' }) },
 *   async (request) => ({ caller: request.auth?.client_id }),
 * );
 * ```
 */
export function requireServiceAuth(options: ServiceAuthOptions): preHandlerAsyncHookHandler {
  const resolved = resolveServiceAuthOptions(options);
  return async (request, reply) => {
    const { raw } = request;
    // The URL the client asked for, before any `rewriteUrl`.
    const target = (request as { originalUrl?: string }).originalUrl ?? raw.url ?? request.url;
    const outcome = await authenticate(resolved, nodeRequestParts(raw, target, resolved), raw);
    return settle(outcome, request, reply);
  };
}

/**
 * A Fastify `preHandler` hook that checks scopes on a request an earlier
 * {@link requireServiceAuth} hook has verified: one `requireServiceAuth` for a plugin, and a
 * scope check per route. The request is not verified twice (a DPoP proof would look like its
 * own replay); its token must grant every one of `scopes`, or the answer is 403
 * `insufficient_scope` with a `WWW-Authenticate` naming them, as from `requireServiceAuth`.
 *
 * Without a `requireServiceAuth` hook ahead of it, every request fails with a `TypeError` for
 * Fastify's error handler (a configuration error, answered 500), never a 401. Bad scopes throw a
 * `TypeError` here.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @example
 * ```ts
 * app.addHook('preHandler', requireServiceAuth({ resourceServer }));
 * app.get('/orders', { preHandler: requireScopes('orders:read') }, listOrders);
 * ```
 */
export function requireScopes(scopes: string | readonly string[]): preHandlerAsyncHookHandler {
  const required = resolveGuardScopes(scopes);
  return async (request, reply) =>
    settle(await authorizeScopes(request.raw, required), request, reply);
}

/** Hands the claims to the handler, or answers the rejection. */
function settle(
  outcome: AuthenticationOutcome,
  request: { auth?: AccessTokenClaims },
  reply: FastifyReply,
): FastifyReply | undefined {
  if (outcome.rejection !== undefined) {
    const { status, headers, body } = outcome.rejection;
    // Returning the reply makes Fastify wait for it and skip the handler.
    return reply.code(status).headers(headers).send(body);
  }
  request.auth = outcome.claims;
  return undefined;
}
