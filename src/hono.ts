/**
 * Service-to-service authentication for Hono: a middleware that verifies the access token (and
 * DPoP proof) of each request with a resource server and hands the claims to the handler as
 * `c.get('auth')`. It imports nothing from `hono` at run time and runs wherever Hono does
 * (Node, Bun, Deno, Cloudflare Workers).
 *
 * @module s2s-auth/hono
 */
import type { Context, MiddlewareHandler } from 'hono';
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
import { webRequestParts } from './runtime/middleware/web-request.js';
import type { AccessTokenClaims } from './runtime/server/jwt-verify.js';

export type { ServiceAuthOptions } from './runtime/middleware/guard-options.js';
export type { AccessTokenClaims } from './runtime/server/jwt-verify.js';
export * from './runtime/errors.js';

/**
 * The context variables {@link requireServiceAuth} sets: `auth`, the verified token's claims.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @example
 * ```ts
 * type Env = { Bindings: { DB: D1Database }; Variables: ServiceAuthVariables };
 * const app = new Hono<Env>();
 * ```
 */
export interface ServiceAuthVariables {
  /** The claims of the verified access token. */
  auth: AccessTokenClaims;
}

/**
 * The Hono environment {@link requireServiceAuth} provides. Give it to `new Hono<ServiceAuthEnv>()`
 * when the middleware is installed with `app.use`; on a route (`app.get(path, middleware,
 * handler)`) Hono infers it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @example
 * ```ts
 * const app = new Hono<ServiceAuthEnv>();
 * app.use('/orders/*', requireServiceAuth({ resourceServer }));
 * app.get('/orders/:id', (c) => c.json({ caller: c.get('auth').client_id }));
 * ```
 */
export interface ServiceAuthEnv {
  Variables: ServiceAuthVariables;
}

/**
 * A Hono middleware that lets a request through only with a valid access token: `Bearer`, or
 * `DPoP` with a proof for this method and URL. The verified claims are `c.get('auth')`.
 *
 * A rejected request is answered at once with the resource server's status (401, or 403 for a
 * missing scope), its `WWW-Authenticate` challenge, `DPoP-Nonce` when the proof must carry a
 * nonce, `Cache-Control: no-store` and a JSON body `{ error, error_description }`; the token is
 * never echoed. Any other failure is thrown to Hono's `onError`.
 *
 * The DPoP proof is checked against `c.req.url`; behind a proxy, set `publicOrigin` (or
 * `trustProxy`). Bad options throw a `TypeError` here.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createResourceServer } from 's2s-auth/server';
 * import { requireServiceAuth } from 's2s-auth/hono';
 *
 * const resourceServer = createResourceServer({
 *   issuer: 'https://idp.example.com',
 *   audience: 'https://orders.example.com',
 * });
 *
 * const app = new Hono();
 * app.get('/orders/:id', requireServiceAuth({ resourceServer, requiredScopes: 'orders:read' }), (c) =>
 *   c.json({ id: c.req.param('id'), caller: c.get('auth').client_id }),
 * );
 * ```
 */
export function requireServiceAuth(options: ServiceAuthOptions): MiddlewareHandler<ServiceAuthEnv> {
  const resolved = resolveServiceAuthOptions(options);
  return async (c, next) => {
    const outcome = await authenticate(resolved, webRequestParts(c.req.raw, resolved), c.req.raw);
    return settle(outcome, c, next);
  };
}

/**
 * A Hono middleware that checks scopes on a request an earlier {@link requireServiceAuth} has
 * verified: one `requireServiceAuth` for the app or a group of routes, and a scope check per
 * route. The request is not verified twice (a DPoP proof would look like its own replay); its
 * token must grant every one of `scopes`, or the answer is 403 `insufficient_scope` with a
 * `WWW-Authenticate` naming them, as from `requireServiceAuth`.
 *
 * Without a `requireServiceAuth` ahead of it, every request throws a `TypeError` to Hono's
 * `onError` (a configuration error, answered 500 by default), never a 401. Bad scopes throw a
 * `TypeError` here.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @example
 * ```ts
 * app.use('/orders/*', requireServiceAuth({ resourceServer }));
 * app.get('/orders/:id', requireScopes('orders:read'), (c) => c.json({ caller: c.get('auth').client_id }));
 * ```
 */
export function requireScopes(
  scopes: string | readonly string[],
): MiddlewareHandler<ServiceAuthEnv> {
  const required = resolveGuardScopes(scopes);
  return async (c, next) => settle(await authorizeScopes(c.req.raw, required), c, next);
}

/** Hands the claims to the handler, or answers the rejection. */
async function settle(
  outcome: AuthenticationOutcome,
  c: Context<ServiceAuthEnv>,
  next: () => Promise<void>,
): Promise<Response | undefined> {
  if (outcome.rejection !== undefined) {
    const { status, headers, body } = outcome.rejection;
    return c.json(body, status, headers);
  }
  c.set('auth', outcome.claims);
  await next();
  return undefined;
}
