/**
 * The errors s2s-auth throws on purpose. Every one extends {@link AuthError}, carries a
 * machine-readable field to branch on (`code` for the IdP's OAuth errors, `reason` for token
 * verification) and never holds a client secret, a private key or a whole token in its
 * message, fields or `cause`.
 *
 * @packageDocumentation
 */

/**
 * Base class of every error the SDK throws on purpose.
 *
 * @example
 * ```ts
 * try {
 *   await client.getToken();
 * } catch (error) {
 *   if (error instanceof AuthError) log.warn({ err: error.name }, error.message);
 *   throw error;
 * }
 * ```
 */
export class AuthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The authorization server answered with an OAuth 2.0 error (a non-2xx status).
 *
 * `code` is the OAuth `error` value (`invalid_client`, `invalid_scope`, `invalid_target`,
 * `use_dpop_nonce`, …). When the server answered a non-2xx status without an RFC 6749 error
 * body, `code` is derived from the status: `invalid_client` for 401, `temporarily_unavailable`
 * for 429 and 503, `server_error` for other 5xx and `invalid_request` otherwise.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 * @example
 * ```ts
 * try {
 *   await client.getToken({ scope: 'orders:admin' });
 * } catch (error) {
 *   if (error instanceof OAuthError && error.code === 'invalid_scope') {
 *     // ask for less
 *   }
 * }
 * ```
 */
export class OAuthError extends AuthError {
  /** HTTP status of the server's answer. */
  readonly status: number;
  /** The OAuth `error` code. */
  readonly code: string;
  /** The server's `error_description`, when it sent one. */
  readonly description: string | undefined;

  constructor(init: { status: number; code: string; description?: string; endpoint?: string }) {
    const where = init.endpoint ? ` from ${init.endpoint}` : '';
    const detail = init.description ? `: ${init.description}` : '';
    super(`${init.code} (HTTP ${init.status})${where}${detail}`);
    this.status = init.status;
    this.code = init.code;
    this.description = init.description;
  }
}

/**
 * The authorization server could not be reached: the connection failed or was refused, the
 * request timed out (`timeoutMs`) or it was aborted. `cause` holds the underlying error.
 *
 * @example
 * ```ts
 * try {
 *   await client.getToken();
 * } catch (error) {
 *   if (error instanceof NetworkError) metrics.increment('idp.unreachable');
 * }
 * ```
 */
export class NetworkError extends AuthError {
  /** The underlying failure: the `fetch` error (its own `cause` has the socket code), or the timeout or abort. */
  declare readonly cause: unknown;

  constructor(message: string, cause: unknown) {
    super(message, { cause });
  }
}

/**
 * The authorization server answered 2xx with a body that breaks the spec: not JSON, a missing
 * `access_token`, members of the wrong type, or a discovery document for another issuer.
 * `cause` lists the problems found (never the offending values).
 *
 * @example
 * ```ts
 * if (error instanceof ProtocolError) console.error(error.message, error.cause);
 * ```
 */
export class ProtocolError extends AuthError {
  /**
   * What was wrong, never the values: a list of `{ path, code, message }` for members that
   * break the spec, or `{ contentType, length }` for a body that is not JSON.
   */
  declare readonly cause: unknown;

  constructor(message: string, cause: unknown) {
    super(message, { cause });
  }
}

/**
 * Machine-readable reasons a token or DPoP proof is rejected. Every reason answers 401 except
 * `scope` (403), `duplicate_credentials` (400) and `jwks` (503).
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
   * The issuer's key set could not be had, so the token could not be checked at all: answered
   * 503 with `retryAfter`, not 401, so clients do not fetch a new token for nothing. `cause`
   * says why.
   */
  | 'jwks';

/** The HTTP statuses a {@link TokenError} answers with. */
export type TokenErrorStatus = 400 | 401 | 403 | 503;

/**
 * A token or DPoP proof failed verification. `status` (401, 403 for a missing scope, 400 for a
 * request with several credentials, 503 while the issuer's keys cannot be had) and
 * `wwwAuthenticate` are ready to send back; `reason` is for logs and branching. The message is
 * generic and never echoes the token.
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
   * RFC 6750 §3.1); 503 when the issuer's key set cannot be had (reason `jwks`).
   */
  readonly status: TokenErrorStatus;
  /**
   * The `WWW-Authenticate` header value to answer with. For a 503 it is the challenge naming no
   * error, which need not be sent: new credentials would not help.
   */
  readonly wwwAuthenticate: string;
  /**
   * For a 503: seconds until the resource server tries the issuer's key set again, the value
   * of a `Retry-After` header (RFC 9110 §10.2.3). `undefined` otherwise.
   */
  readonly retryAfter: number | undefined;
  /**
   * For reason `claims`: the claim that is missing or has the wrong type, such as `sub`. Never
   * sent to the client.
   */
  readonly claim: string | undefined;
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
    this.error = init.error;
    this.errorDescription = init.errorDescription;
  }
}
