import type { TokenError } from '../token-error.js';
import type { AccessTokenClaims } from '../server/jwt-verify.js';
import { validateScopes } from '../server/verify-options.js';
import type { RequestLike } from '../server/request.js';
import type { ResolvedServiceAuthOptions } from './guard-options.js';
import { isTokenError, rejectionResponse, type RejectionResponse } from './rejection-response.js';
import { rememberVerified, verifiedBefore } from './verified-requests.js';

/** A verified request's claims, or the answer for a rejected one and the error behind it. */
export type AuthenticationOutcome =
  | { claims: AccessTokenClaims; rejection?: undefined; error?: undefined }
  | { claims?: undefined; rejection: RejectionResponse; error: TokenError };

/**
 * Runs `verifyRequest` and sorts the result: claims, or a rejection to answer. Anything but a
 * `TokenError` is a fault (a bug, a misconfigured store) and is rethrown for the framework's
 * error handling, never turned into a 401 that would hide it. A verified request is remembered
 * under `incoming`, the framework's request object, for {@link authorizeScopes}.
 */
export async function authenticate(
  options: ResolvedServiceAuthOptions,
  request: RequestLike,
  incoming?: object,
): Promise<AuthenticationOutcome> {
  let claims: AccessTokenClaims;
  try {
    if (options.clientCertificateHeader !== undefined) {
      // The connection is the proxy's: the client's certificate is the one it forwarded, or
      // none. The resource server reads the header, so a bad one is refused and reported there.
      const { clientCertificate: _socket, ...rest } = request;
      request = { ...rest, clientCertificateHeader: options.clientCertificateHeader };
    }
    claims = await options.resourceServer.verifyRequest(request, options.verifyOptions);
  } catch (error) {
    if (isTokenError(error)) return { rejection: rejectionResponse(error), error };
    throw error;
  }
  if (incoming !== undefined) rememberVerified(incoming, { options, request });
  return { claims };
}

/** The scopes of a `requireScopes` guard, checked when it is made. */
export function resolveGuardScopes(scopes: unknown): readonly string[] {
  const list = validateScopes(scopes, 'requireScopes', 'scopes');
  if (list === undefined || list.length === 0) {
    throw new TypeError('requireScopes: `scopes` must name at least one scope');
  }
  return list;
}

/**
 * The check of a `requireScopes` guard: the request an earlier `requireServiceAuth` verified,
 * asked about again, with these scopes, of the same resource server. For a DPoP request it
 * checks only the time, audience and scopes again, so the proof of this very request is not
 * taken for a replay. Without an earlier `requireServiceAuth` it is
 * a configuration error, thrown to the framework's error handling (a 500), not a 401: the
 * client did nothing wrong, and a route that answers 401 to everyone hides the mistake.
 */
export function authorizeScopes(
  incoming: object,
  scopes: readonly string[],
): Promise<AuthenticationOutcome> {
  const earlier = verifiedBefore(incoming);
  if (earlier === undefined) {
    return Promise.reject(
      new TypeError(
        'requireScopes: no requireServiceAuth verified this request before it; install requireServiceAuth ahead of requireScopes on this route',
      ),
    );
  }
  const { options, request } = earlier;
  return authenticate(
    { ...options, verifyOptions: { ...options.verifyOptions, requiredScopes: scopes } },
    request,
  );
}
