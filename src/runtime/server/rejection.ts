import { TokenError, type TokenErrorReason, type TokenErrorStatus } from '../token-error.js';
import { formatChallenge, type ChallengeScheme } from './www-authenticate.js';

/** The `error` codes of RFC 6750 §3.1 and RFC 9449 §7.1 and §9 this server answers with. */
export type ChallengeError =
  | 'invalid_token'
  | 'invalid_request'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'insufficient_scope';

export interface RejectionDetails {
  /** `null`: the request carried no credentials, so the challenge names no error (RFC 6750 §3.1). */
  error?: ChallengeError | null;
  /** Forces the challenge scheme, e.g. `DPoP` for a DPoP-bound token sent as Bearer. */
  scheme?: ChallengeScheme;
  /** The scope needed, for `insufficient_scope`. */
  scope?: string;
  /**
   * What was expected and what was found, for the {@link TokenError}'s message and the
   * `verification_failed` event only, never for the HTTP answer: it may quote short values
   * from the token (a `typ`, an `aud`), never the token itself.
   */
  detail?: string;
  /** A fresh nonce to hand out with `use_dpop_nonce`. */
  nonce?: string;
  /** The claim a `claims` rejection is about; kept out of the challenge. */
  claim?: string;
  /**
   * The token could not be checked because the issuer's keys are unavailable: answer 503 with
   * this many seconds as `Retry-After`, and no error in the challenge.
   */
  retryAfter?: number;
  cause?: unknown;
}

/**
 * A verification failure inside the server. Deliberately not an `Error`: rejecting a bad token
 * is the hot path under attack and needs no stack trace. Every entry point converts it to a
 * {@link TokenError} with {@link toTokenError} before it can escape.
 */
export class Rejection {
  constructor(
    readonly reason: TokenErrorReason,
    /** Fixed text (printable ASCII, never anything from the token) for `error_description`. */
    readonly description: string,
    readonly details: RejectionDetails = {},
  ) {}
}

export function reject(
  reason: TokenErrorReason,
  description: string,
  details?: RejectionDetails,
): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- deliberately not an Error (see Rejection)
  throw new Rejection(reason, description, details);
}

/** How to phrase challenges for one call. */
export interface ChallengeContext {
  /** The scheme the request used; `undefined` when it used none. */
  scheme: ChallengeScheme | undefined;
  /** Schemes offered to a request that carried no credentials. */
  offered: readonly ChallengeScheme[];
  realm: string | undefined;
  /** Space-separated DPoP algorithms, for the `algs` parameter (RFC 9449 §7.1). */
  dpopAlgs: string;
}

/** The status of each challenge error (RFC 6750 §3.1, RFC 9449 §7.1). */
function statusOf(error: ChallengeError | null): TokenErrorStatus {
  if (error === 'insufficient_scope') return 403;
  if (error === 'invalid_request') return 400;
  return 401;
}

/** The challenges offered to a request that carried no usable credentials. */
function plainChallenges(context: ChallengeContext): string {
  return context.offered
    .map((scheme) =>
      formatChallenge(scheme, {
        realm: context.realm,
        algs: scheme === 'DPoP' ? context.dpopAlgs : undefined,
      }),
    )
    .join(', ');
}

/**
 * Turns a refusal of a verification step (a {@link Rejection}, or a {@link TokenError} already)
 * into the one error type callers see. Anything else is a fault, in this code or in a hook the
 * caller injected (`now`, a request's `headers.get`, …), not a verdict on the token: it is
 * rethrown as it is, so a bug surfaces as itself rather than as a 401 `malformed`.
 */
export function toTokenError(failure: unknown, context: ChallengeContext): TokenError {
  if (failure instanceof TokenError) return failure;
  if (!(failure instanceof Rejection)) throw failure;
  const { reason, description, details } = failure;
  const shared = {
    reason,
    ...(details.claim === undefined ? {} : { claim: details.claim }),
    ...(details.detail === undefined ? {} : { detail: details.detail }),
    ...(details.cause === undefined ? {} : { cause: details.cause }),
  };

  // Nothing is wrong with the credentials: they could not be checked. No `invalid_token`, so a
  // client does not throw its token away and ask for another that would fare no better.
  if (details.retryAfter !== undefined) {
    return new TokenError({
      ...shared,
      status: 503,
      retryAfter: details.retryAfter,
      wwwAuthenticate: plainChallenges(context),
      message: `access token not checked (${reason}): ${description}`,
      error: 'temporarily_unavailable',
      errorDescription: description,
    });
  }

  const error = details.error === undefined ? 'invalid_token' : details.error;
  let wwwAuthenticate: string;
  if (error === null) {
    wwwAuthenticate = plainChallenges(context);
  } else {
    const scheme = details.scheme ?? context.scheme ?? 'Bearer';
    wwwAuthenticate = formatChallenge(scheme, {
      realm: context.realm,
      error,
      error_description: description,
      scope: details.scope,
      algs: scheme === 'DPoP' ? context.dpopAlgs : undefined,
    });
  }

  const subject =
    error === 'invalid_dpop_proof' || error === 'use_dpop_nonce'
      ? 'DPoP proof'
      : error === 'invalid_request'
        ? 'request'
        : 'access token';
  // The challenge gets the fixed description; the message adds what was expected and found.
  const about =
    details.detail !== undefined
      ? `: ${details.detail}`
      : details.claim === undefined
        ? ''
        : ` (${details.claim})`;
  return new TokenError({
    ...shared,
    status: statusOf(error),
    wwwAuthenticate,
    message: `${subject} rejected (${reason}): ${description}${about}`,
    ...(details.nonce === undefined ? {} : { dpopNonce: details.nonce }),
    ...(error === null ? {} : { error, errorDescription: description }),
  });
}
