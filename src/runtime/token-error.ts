/**
 * The error of token verification: why a token or DPoP proof was refused (`reason`), and the
 * HTTP answer that says so (`status`, `wwwAuthenticate`), with what was expected and found kept
 * for logs and out of the answer.
 *
 * @packageDocumentation
 */
import { AuthError } from './errors.js';

/**
 * Machine-readable reasons a token or DPoP proof is rejected. Every reason answers 401 except
 * `scope` (403), `duplicate_credentials` (400), `jwks` and `introspection` (503).
 */
export type TokenErrorReason =
  /** No credentials: no `Authorization` header, another scheme, or an empty token. */
  | 'missing'
  /**
   * The request carries more than one credential: several `Authorization` header lines, or
   * one value holding several (`Bearer a, Bearer b`). Answered 400 `invalid_request`
   * (RFC 6750 §3.1: the request "uses more than one method for including an access token").
   */
  | 'duplicate_credentials'
  /** Not a well-formed compact JWS, or too long. */
  | 'malformed'
  /** Signed with an algorithm that is not allowed (`none` and `HS*` never are). */
  | 'algorithm'
  /** The signature does not verify. */
  | 'signature'
  /** No key of the issuer fits the token's `kid` and `alg`, even after a refetch. */
  | 'key'
  /** `iss` is missing or is not the configured issuer. */
  | 'issuer'
  /** `aud` does not name the expected audience. */
  | 'audience'
  /** `exp` has passed. */
  | 'expired'
  /** `nbf` or `iat` is in the future. */
  | 'not_yet_valid'
  /** The JWS `typ` is not the required one (`at+jwt` by default). */
  | 'type'
  /**
   * A required claim is missing (`exp`, or one of `requiredClaims`: by default the RFC 9068
   * §2.2 claims of an `at+jwt` token) or a claim has the wrong type; `claim` names it.
   */
  | 'claims'
  /** A required scope is not granted (403 `insufficient_scope`). */
  | 'scope'
  /** A missing or invalid DPoP proof, or a token presented with the wrong scheme. */
  | 'dpop'
  /** The DPoP proof lacks the server's current nonce; `dpopNonce` holds the new one. */
  | 'dpop_nonce'
  /** The DPoP proof was used before. */
  | 'dpop_replay'
  /**
   * The token is bound to a client certificate (`cnf["x5t#S256"]`, RFC 8705 §3) and the request
   * came without one, or with another.
   */
  | 'certificate'
  /**
   * The issuer's key set could not be had, so the token could not be checked at all: answered
   * 503 with `retryAfter`, not 401, so clients do not fetch a new token for nothing. `cause`
   * says why.
   */
  | 'jwks'
  /**
   * Introspection (RFC 7662) answered that the token is not active: expired, revoked, unknown
   * to the authorization server, or not for this caller to ask about.
   */
  | 'inactive'
  /**
   * The authorization server could not be asked about an opaque token (unreachable, an OAuth
   * error such as `invalid_client`, an answer that breaks RFC 7662): answered 503 with
   * `retryAfter`, like `jwks`. `cause` says why.
   */
  | 'introspection';

/** The HTTP statuses a {@link TokenError} answers with. */
export type TokenErrorStatus = 400 | 401 | 403 | 503;

/**
 * A token or DPoP proof failed verification. `status` (401, 403 for a missing scope, 400 for a
 * request with several credentials, 503 while the issuer's keys or introspection cannot be had)
 * and `wwwAuthenticate` are ready to send back; `reason` is for logs and branching. The message
 * names what was expected and what was found (`detail`), for logs; it never echoes the token,
 * and none of it reaches the challenge.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @example
 * ```ts
 * try {
 *   const claims = await server.verifyRequest(request);
 * } catch (error) {
 *   if (error instanceof TokenError) {
 *     return new Response(null, {
 *       status: error.status,
 *       headers: { 'WWW-Authenticate': error.wwwAuthenticate },
 *     });
 *   }
 *   throw error;
 * }
 * ```
 */
export class TokenError extends AuthError {
  /** Why verification failed, for logs and branching. */
  readonly reason: TokenErrorReason;
  /**
   * 401; 403 for `insufficient_scope`; 400 for `invalid_request` (several credentials,
   * RFC 6750 §3.1); 503 when the issuer's key set cannot be had (reason `jwks`) or its
   * introspection endpoint cannot be asked (reason `introspection`).
   */
  readonly status: TokenErrorStatus;
  /**
   * The `WWW-Authenticate` header value to answer with. For a 503 it is the challenge naming no
   * error, which need not be sent: new credentials would not help.
   */
  readonly wwwAuthenticate: string;
  /**
   * For a 503: seconds until the resource server tries the issuer's key set again (for
   * `introspection`, a fixed few seconds), the value of a `Retry-After` header (RFC 9110
   * §10.2.3). `undefined` otherwise.
   */
  readonly retryAfter: number | undefined;
  /**
   * For reason `claims`: the claim that is missing or has the wrong type, such as `sub`. Never
   * sent to the client.
   */
  readonly claim: string | undefined;
  /**
   * What was expected and what was found, for logs: the `aud` and the expected audience, the
   * `iss` and the expected issuer, the missing scopes, the `typ` seen, the clock offset, the
   * `kid` and whether the key set has it. Short values of the token are quoted (cut at 128
   * characters), never the token. Also at the end of `message`; never sent to the client (not
   * in `wwwAuthenticate` nor `errorDescription`). `undefined` where there is nothing to add.
   */
  readonly detail: string | undefined;
  /** A nonce to send as the `DPoP-Nonce` response header, when the server requires one. */
  readonly dpopNonce: string | undefined;
  /**
   * The challenge's `error` code: `invalid_token`, `insufficient_scope`, `invalid_request`
   * (RFC 6750 §3.1), `invalid_dpop_proof` or `use_dpop_nonce` (RFC 9449 §7.1, §9);
   * `temporarily_unavailable` for a 503 (then not in the challenge); `undefined` when the
   * request carried no credentials (the challenge then names no error).
   */
  readonly error: string | undefined;
  /** The challenge's `error_description`: fixed text, never anything from the token. */
  readonly errorDescription: string | undefined;

  constructor(init: {
    reason: TokenErrorReason;
    status?: TokenErrorStatus;
    wwwAuthenticate: string;
    message: string;
    dpopNonce?: string;
    retryAfter?: number;
    claim?: string;
    detail?: string;
    error?: string;
    errorDescription?: string;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.reason = init.reason;
    this.status = init.status ?? 401;
    this.wwwAuthenticate = init.wwwAuthenticate;
    this.dpopNonce = init.dpopNonce;
    this.retryAfter = init.retryAfter;
    this.claim = init.claim;
    this.detail = init.detail;
    this.error = init.error;
    this.errorDescription = init.errorDescription;
  }
}
