/**
 * Service-to-service authentication for Hono: a middleware that verifies the access token (and
 * DPoP proof) of each request with a resource server and hands the claims to the handler as
 * `c.get('auth')`. At run time it imports only `HTTPException` from `hono/http-exception`, and
 * it runs wherever Hono does (Node, Bun, Deno, Cloudflare Workers).
 *
 * @module s2s-auth/hono
 */
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
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
import type { RejectionResponse } from './runtime/middleware/rejection-response.js';
import { webRequestParts } from './runtime/middleware/web-request.js';
import type { TokenError } from './runtime/token-error.js';
import type { AccessTokenClaims } from './runtime/server/jwt-verify.js';

export type { ServiceAuthOptions } from './runtime/middleware/guard-options.js';
export type { AccessTokenClaims } from './runtime/server/jwt-verify.js';
export * from './runtime/errors.js';
export * from './runtime/token-error.js';

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
 * A rejected request throws an `HTTPException` (from `hono/http-exception`) whose `status` is the
 * resource server's (401, or 403 for a missing scope) and whose `res`, what Hono answers when
 * no `app.onError` reshapes it, carries the `WWW-Authenticate` challenge, `DPoP-Nonce` when the
 * proof must carry a nonce, `Cache-Control: no-store` and a JSON body
 * `{ error, error_description }`; its `cause` is the `TokenError`. The token is never echoed.
 * An `onError` that handles every error should answer an `HTTPException` with
 * `error.getResponse()`. Any other failure is thrown to `onError` as it is.
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
    // On @hono/node-server, the Node request (and its TLS socket) is in the environment.
    const env = c.env as { incoming?: { socket?: unknown } } | undefined;
    const parts = webRequestParts(c.req.raw, resolved, env?.incoming?.socket);
    const outcome = await authenticate(resolved, parts, c.req.raw);
    return settle(outcome, c, next);
  };
}

/**
 * A Hono middleware that checks scopes on a request an earlier {@link requireServiceAuth} has
 * verified: one `requireServiceAuth` for the app or a group of routes, and a scope check per
 * route. The request is not verified twice (a DPoP proof would look like its own replay); its
 * token must grant every one of `scopes`, or it throws an `HTTPException` answering 403
 * `insufficient_scope` with a `WWW-Authenticate` naming them, as from `requireServiceAuth`.
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

/** Hands the claims to the handler, or throws the rejection for `onError`. */
async function settle(
  outcome: AuthenticationOutcome,
  c: Context<ServiceAuthEnv>,
  next: () => Promise<void>,
): Promise<void> {
  if (outcome.rejection !== undefined)
    throw new RejectionException(outcome.rejection, outcome.error);
  c.set('auth', outcome.claims);
  await next();
}

/**
 * A refusal as Hono's own exception, so `app.onError` can reshape it. `res` is the answer without
 * framing headers, for an `onError` to read; `getResponse()`, what Hono answers with when no
 * `onError` does, is a fresh copy on every call with its `Content-Length`, so the answer is
 * framed as `c.json` frames it rather than chunked.
 */
class RejectionException extends HTTPException {
  readonly #text: string;
  readonly #init: ResponseInit;

  constructor(rejection: RejectionResponse, cause: TokenError) {
    const { status, headers, body } = rejection;
    const text = JSON.stringify(body);
    const fields = { 'Content-Type': 'application/json', ...headers };
    super(status, {
      res: new Response(text, { status, headers: fields }),
      message: body.error_description ?? body.error,
      cause,
    });
    this.#text = text;
    const length = String(new TextEncoder().encode(text).byteLength);
    this.#init = { status, headers: { ...fields, 'Content-Length': length } };
  }

  override getResponse(): Response {
    return new Response(this.#text, this.#init);
  }
}
