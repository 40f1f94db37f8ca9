import { TokenError, type TokenErrorStatus } from '../token-error.js';
import { challengeParameter } from '../shared/challenge.js';

/**
 * The JSON body of a rejection: the `error` code of the challenge (RFC 6750 §3.1, RFC 9449
 * §7.1) and its `error_description`, both fixed text chosen by the resource server, never
 * anything taken from the token. A request without credentials gets `unauthorized`, since RFC
 * 6750 §3.1 has its challenge name no error code.
 */
export interface RejectionBody {
  error: string;
  error_description?: string;
}

/** Everything a middleware sends back for a rejected request. */
export interface RejectionResponse {
  status: TokenErrorStatus;
  /**
   * `WWW-Authenticate`, `Cache-Control` and, when the proof lacked the nonce, `DPoP-Nonce`; for
   * a 503, `Retry-After` instead of `WWW-Authenticate`.
   */
  headers: Record<string, string>;
  body: RejectionBody;
}

/**
 * Whether a failure is a token rejection. Besides `instanceof`, a `TokenError` made by another
 * copy of this package counts (the ESM and CommonJS builds loaded side by side, or two
 * versions in one tree): its fields are all that is read.
 */
export function isTokenError(error: unknown): error is TokenError {
  if (error instanceof TokenError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as Partial<Record<keyof TokenError, unknown>>;
  return (
    candidate.name === 'TokenError' &&
    (candidate.status === 400 ||
      candidate.status === 401 ||
      candidate.status === 403 ||
      candidate.status === 503) &&
    typeof candidate.wwwAuthenticate === 'string' &&
    (candidate.dpopNonce === undefined || typeof candidate.dpopNonce === 'string')
  );
}

/**
 * The answer to a rejected request (RFC 6750 §3, RFC 9449 §7.1): the error's status and
 * challenge, the nonce to use next when one was asked for (RFC 9449 §9), `no-store` so no
 * cache keeps a credential failure, and a body repeating the challenge's error for clients
 * that read bodies rather than headers.
 *
 * A request that could not be checked because the issuer's keys are unavailable gets 503 with
 * `Retry-After` (RFC 9110 §15.6.4, §10.2.3) and no challenge: other credentials would not
 * help, and a client that saw `invalid_token` would fetch a new token for nothing.
 */
export function rejectionResponse(error: TokenError): RejectionResponse {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  if (error.status === 503) {
    const retryAfter = (error as Partial<Pick<TokenError, 'retryAfter'>>).retryAfter;
    headers['Retry-After'] = String(
      typeof retryAfter === 'number' && Number.isSafeInteger(retryAfter) && retryAfter > 0
        ? retryAfter
        : 1,
    );
  } else {
    headers['WWW-Authenticate'] = error.wwwAuthenticate;
  }
  if (typeof error.dpopNonce === 'string' && error.dpopNonce !== '') {
    headers['DPoP-Nonce'] = error.dpopNonce;
  }
  // A TokenError from an older copy of the package may lack `error`: read the challenge then.
  const fields = error as Partial<Pick<TokenError, 'error' | 'errorDescription'>>;
  const code = fields.error ?? challengeParameter(error.wwwAuthenticate, 'error');
  let body: RejectionBody;
  if (code === undefined) {
    body = { error: 'unauthorized', error_description: 'no access token' };
  } else {
    const description =
      fields.errorDescription ?? challengeParameter(error.wwwAuthenticate, 'error_description');
    body =
      description === undefined ? { error: code } : { error: code, error_description: description };
  }
  return { status: error.status, headers, body };
}
