import type { AccessTokenClaims } from '../server/jwt-verify.js';
import type { RequestLike } from '../server/request.js';
import type { ResolvedServiceAuthOptions } from './options.js';
import { isTokenError, rejectionResponse, type RejectionResponse } from './rejection-response.js';

/** A verified request's claims, or the answer for a rejected one. */
export type AuthenticationOutcome =
  | { claims: AccessTokenClaims; rejection?: undefined }
  | { claims?: undefined; rejection: RejectionResponse };

/**
 * Runs `verifyRequest` and sorts the result: claims, or a rejection to answer. Anything but a
 * `TokenError` is a fault (a bug, a misconfigured store) and is rethrown for the framework's
 * error handling, never turned into a 401 that would hide it.
 */
export async function authenticate(
  options: ResolvedServiceAuthOptions,
  request: RequestLike,
): Promise<AuthenticationOutcome> {
  try {
    return { claims: await options.resourceServer.verifyRequest(request, options.verifyOptions) };
  } catch (error) {
    if (isTokenError(error)) return { rejection: rejectionResponse(error) };
    throw error;
  }
}
