/**
 * Service-to-service authentication for Express (4.18+ and 5): a middleware that verifies the
 * access token (and DPoP proof) of each request with a resource server and hands the claims
 * to the handler as `req.auth`. It imports nothing from `express` at run time.
 *
 * @module s2s-auth/express
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
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

declare global {
  // Express's own extension point: every `Request` type of Express 4 and 5 extends this one.
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's request type is extended through its global namespace
  namespace Express {
    interface Request {
      /**
       * The claims of the verified access token, set by `requireServiceAuth` from
       * `s2s-auth/express`; `undefined` on routes it does not guard.
       */
      auth?: AccessTokenClaims;
    }
  }
}

/**
 * An Express `RequestHandler` that lets a request through only with a valid access token:
 * `Bearer`, or `DPoP` with a proof for this method and URL. The verified claims are `req.auth`.
 *
 * A rejected request is answered at once with the resource server's status (401, or 403 for a
 * missing scope), its `WWW-Authenticate` challenge, `DPoP-Nonce` when the proof must carry a
 * nonce, `Cache-Control: no-store` and a JSON body `{ error, error_description }`; the token is
 * never echoed. Any other failure goes to `next(error)`, the app's error handlers.
 *
 * The DPoP proof is checked against the URL built from the connection's scheme, the `Host`
 * header and `req.originalUrl` (so routers mounted under a path work). Express's `trust proxy`
 * setting is not consulted: behind a proxy, set `publicOrigin` (or `trustProxy`). Bad options
 * throw a `TypeError` here.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @example
 * ```ts
 * import express from 'express';
 * import { createResourceServer } from 's2s-auth/server';
 * import { requireServiceAuth } from 's2s-auth/express';
 *
 * const resourceServer = createResourceServer({
 *   issuer: 'https://idp.example.com',
 *   audience: 'https://orders.example.com',
 * });
 *
 * const app = express();
 * app.get('/orders/:id', requireServiceAuth({ resourceServer, requiredScopes: 'orders:read' }), (req, res) => {
 *   res.json({ id: req.params.id, caller: req.auth?.client_id });
 * });
 * ```
 */
export function requireServiceAuth(options: ServiceAuthOptions): RequestHandler {
  const resolved = resolveServiceAuthOptions(options);
  return (req, res, next) => {
    let pending: Promise<AuthenticationOutcome>;
    try {
      // `originalUrl`: the path the client asked for, also under a router mounted on a path.
      pending = authenticate(
        resolved,
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a request that did not pass through an Express router has no originalUrl
        nodeRequestParts(req, req.originalUrl ?? req.url, resolved),
        req,
      );
    } catch (error) {
      next(error);
      return;
    }
    settle(pending, req, res, next);
  };
}

/**
 * An Express `RequestHandler` that checks scopes on a request an earlier
 * {@link requireServiceAuth} has verified: the habit of one `requireServiceAuth` for the whole
 * app and a scope check per route. The request is not verified twice (a DPoP proof would look
 * like its own replay); its token must grant every one of `scopes`, or the answer is 403
 * `insufficient_scope` with a `WWW-Authenticate` naming them, as from `requireServiceAuth`.
 *
 * Without a `requireServiceAuth` ahead of it on the route, every request goes to `next(error)`
 * with a `TypeError` (a configuration error, answered 500), never a 401. Bad scopes throw a
 * `TypeError` here.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @example
 * ```ts
 * app.use(requireServiceAuth({ resourceServer }));
 * app.get('/orders', requireScopes('orders:read'), listOrders);
 * app.post('/orders', requireScopes(['orders:write']), createOrder);
 * ```
 */
export function requireScopes(scopes: string | readonly string[]): RequestHandler {
  const required = resolveGuardScopes(scopes);
  return (req, res, next) => {
    settle(authorizeScopes(req, required), req, res, next);
  };
}

/** Hands the claims to the handler, or answers the rejection; faults go to `next`. */
function settle(
  pending: Promise<AuthenticationOutcome>,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  pending.then(
    (outcome) => {
      if (outcome.rejection === undefined) {
        req.auth = outcome.claims;
        next();
        return;
      }
      const { status, headers, body } = outcome.rejection;
      try {
        res.status(status).set(headers).json(body);
      } catch (error) {
        next(error);
      }
    },
    (error: unknown) => next(error),
  );
}
