/**
 * The errors s2s-auth throws on purpose. Every one extends {@link AuthError}, carries a
 * machine-readable field to branch on (`code` for the IdP's OAuth errors, for transport and
 * protocol failures; `reason` for token verification) and never holds a client secret, a private key or a whole token in its
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

  /** The OAuth `error` code, under the name the seed product used: the same as {@link code}. */
  get errorCode(): string {
    return this.code;
  }

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
 * The client's OAuth error under the name the seed product used: the same class as
 * {@link OAuthError}, so `instanceof` works with either name.
 */
export const AuthClientError = OAuthError;
/** The client's OAuth error under the name the seed product used. */
export type AuthClientError = OAuthError;

/**
 * Why the authorization server could not be reached, for branching and metrics:
 *
 * - `timeout`: no complete answer within `timeoutMs` (or the connection attempt timed out).
 * - `aborted`: the caller's `signal` aborted the request.
 * - `refused`: nothing listens on that host and port (`ECONNREFUSED`).
 * - `dns`: the host name could not be resolved: not found (`ENOTFOUND`) or the DNS lookup
 *   itself failed (`EAI_AGAIN`, usually temporary).
 * - `reset`: the server or something in between closed the connection mid-request.
 * - `tls`: the TLS handshake failed: an untrusted or expired certificate, a name mismatch, or
 *   TLS spoken to a plain-HTTP port.
 * - `unreachable`: no route to the host or network.
 * - `circuit_open`: the endpoint failed repeatedly and the circuit breaker holds calls back.
 * - `failed`: any other failure of `fetch`; `cause` has the details.
 */
export type NetworkErrorCode =
  | 'timeout'
  | 'aborted'
  | 'refused'
  | 'dns'
  | 'reset'
  | 'tls'
  | 'unreachable'
  | 'circuit_open'
  | 'failed';

/**
 * The authorization server could not be reached: the connection failed or was refused, the
 * request timed out (`timeoutMs`) or it was aborted. `code` says which; `cause` holds the
 * underlying error.
 *
 * A server that answered, but in a way the SDK refuses (a redirect, a body over
 * `maxResponseBytes`), is a {@link ProtocolError}, not a `NetworkError`: retrying does not help.
 *
 * @example
 * ```ts
 * try {
 *   await client.getToken();
 * } catch (error) {
 *   if (error instanceof NetworkError) metrics.increment(`idp.unreachable.${error.code}`);
 * }
 * ```
 */
export class NetworkError extends AuthError {
  /** The kind of failure, for branching; the message says it in words. */
  readonly code: NetworkErrorCode;
  /** The underlying failure: the `fetch` error (its own `cause` has the socket code), or the timeout or abort. */
  declare readonly cause: unknown;

  constructor(message: string, cause: unknown, code: NetworkErrorCode = 'failed') {
    super(message, { cause });
    this.code = code;
  }
}

/**
 * What was wrong with an answer of the authorization server, for branching:
 *
 * - `redirect`: it answered with a redirect (3xx), which the SDK never follows: a redirect
 *   from the issuer's metadata URL or the key set would let another origin choose the keys
 *   tokens are verified with, or receive the client's credentials (RFC 8414 §6.2).
 * - `too_large`: the body exceeded `maxResponseBytes` and was not read further.
 * - `not_json`: the body is not JSON.
 * - `schema`: the JSON breaks the spec (a missing `access_token`, a member of the wrong type);
 *   `cause` lists the problems.
 * - `issuer_mismatch`: the discovery document names another issuer (RFC 8414 §3.3).
 * - `discovery_not_found`: neither discovery URL had a document ({@link DiscoveryError}).
 * - `missing_endpoint`: the discovery document does not publish the endpoint needed.
 * - `invalid_url`: a published endpoint is not an absolute `https:` or `http:` URL.
 * - `insecure_url`: a published endpoint is plain `http:` to a host that is not loopback, and
 *   `allowInsecureHttp` is off (RFC 8414 §2).
 * - `token_type`: the token endpoint issued a token of a type this client cannot use: not
 *   `DPoP` for a request with a DPoP proof (RFC 9449 §5), not `Bearer` otherwise.
 * - `invalid_token`: the `access_token` has characters outside printable ASCII (RFC 6749
 *   Appendix A.12), so it cannot be sent in a header.
 * - `expires_in`: the `expires_in` is zero, negative, not finite or over ten years.
 * - `scope`: the granted `scope` has characters outside RFC 6749 §3.3.
 */
export type ProtocolErrorCode =
  | 'redirect'
  | 'too_large'
  | 'not_json'
  | 'schema'
  | 'issuer_mismatch'
  | 'discovery_not_found'
  | 'missing_endpoint'
  | 'invalid_url'
  | 'insecure_url'
  | 'token_type'
  | 'invalid_token'
  | 'expires_in'
  | 'scope';

/**
 * The authorization server answered in a way that breaks the spec or the SDK's policy: a 2xx
 * body that is not JSON, a missing `access_token`, members of the wrong type, a discovery
 * document for another issuer, a redirect, or a body over `maxResponseBytes`. `code` says
 * which; `cause` lists the problems found (never the offending values).
 *
 * @example
 * ```ts
 * if (error instanceof ProtocolError && error.code === 'redirect') {
 *   // configure the URL the server redirects to, after checking it is the right one
 * }
 * ```
 */
export class ProtocolError extends AuthError {
  /** What kind of problem, for branching; the message says it in words. */
  readonly code: ProtocolErrorCode;
  /**
   * What was wrong, never the values: a list of `{ path, code, message }` for members that
   * break the spec, `{ contentType, length }` for a body that is not JSON, or
   * `{ status, url }` for a redirect.
   */
  declare readonly cause: unknown;

  constructor(message: string, cause: unknown, code: ProtocolErrorCode = 'schema') {
    super(message, { cause });
    this.code = code;
  }
}

/** One discovery URL asked and the HTTP status it answered. */
export interface DiscoveryAttempt {
  /** The metadata URL: the RFC 8414 one first, then the OpenID Connect one. */
  readonly url: string;
  readonly status: number;
}

/**
 * Neither discovery URL of the issuer has a document: the RFC 8414 URL
 * (`/.well-known/oauth-authorization-server` inserted before the issuer's path) and the
 * OpenID Connect one (`/.well-known/openid-configuration` appended) both answered 4xx. Most
 * often the `issuer` is not the server's issuer identifier: a wrong path or tenant, or a
 * missing or extra trailing slash. `tried` lists each URL and its status. `code` is
 * `discovery_not_found`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.1
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
 * @example
 * ```ts
 * if (error instanceof DiscoveryError) {
 *   for (const { url, status } of error.tried) console.error(`${url}: HTTP ${status}`);
 * }
 * ```
 */
export class DiscoveryError extends ProtocolError {
  /** The URLs asked, in order, and what each answered. */
  readonly tried: readonly DiscoveryAttempt[];

  constructor(message: string, tried: readonly DiscoveryAttempt[]) {
    super(message, { tried }, 'discovery_not_found');
    this.tried = tried;
  }
}

/**
 * Mutual TLS (`tls` option, RFC 8705) cannot be done by the SDK on this runtime: it has no way
 * to present a client certificate from a `fetch` (Cloudflare Workers, browsers, Bun and Deno,
 * whose `fetch` takes client certificates in options of its own), or, on Node, the optional
 * peer `undici` is not installed. Pass a `fetch` that does mTLS instead (a Workers mTLS
 * binding's `fetch`, Bun's `fetch` with `tls`, Deno's with `Deno.createHttpClient`), or install
 * `undici`. `code` is always `mtls_unavailable`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-2
 */
export class MtlsUnavailableError extends AuthError {
  readonly code = 'mtls_unavailable' as const;
}

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

/**
 * What went wrong getting a client assertion, for branching:
 *
 * - `invalid`: the source gave something that is not a compact JWS (RFC 7515 §7.1): not a
 *   string, not three base64url parts, a header or payload that is not a JSON object, or an
 *   `alg` of `none`.
 * - `too_large`: the assertion (or the file or answer holding it) is longer than
 *   {@link MAX_CLIENT_ASSERTION_LENGTH} characters.
 * - `expired`: its `exp` has passed on the client's clock: the file or token service was not
 *   refreshed.
 * - `source_failed`: the `clientAssertion` function threw or rejected; `cause` holds what it
 *   threw.
 * - `file_not_found`, `file_empty`, `file_unreadable`: `assertionFromFile` found no file, an
 *   empty one, or one it may not read (a directory, no permission); `cause` holds the file
 *   system's error.
 * - `no_file_system`: `assertionFromFile` runs on a runtime without `node:fs` (a browser, a
 *   Cloudflare Worker).
 * - `http_status`: the token service of `assertionFromUrl` answered a status other than 2xx.
 * - `no_assertion`: the token service answered 2xx without an assertion in the body.
 */
export type ClientAssertionErrorCode =
  | 'invalid'
  | 'too_large'
  | 'expired'
  | 'source_failed'
  | 'file_not_found'
  | 'file_empty'
  | 'file_unreadable'
  | 'no_file_system'
  | 'http_status'
  | 'no_assertion';

/**
 * The most characters a client assertion may have: 16 KiB. Kubernetes projected service-account
 * tokens, Entra federated tokens and CI OIDC tokens are 1 to 2 KiB.
 */
export const MAX_CLIENT_ASSERTION_LENGTH = 16_384;

/**
 * The client could not get a usable client assertion (`clientAuth: 'client_assertion'`,
 * RFC 7521 §4.2, RFC 7523 §2.2) before sending the token request: `code` says why. The message
 * names the source (a file's path, a token service's URL without its query) and what was found,
 * never the assertion or any part of it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 * @example
 * ```ts
 * if (error instanceof ClientAssertionError && error.code === 'expired') {
 *   // the projected token file was not rotated: check the kubelet
 * }
 * ```
 */
export class ClientAssertionError extends AuthError {
  /** Why, for branching; the message says it in words. */
  readonly code: ClientAssertionErrorCode;
  /** For `http_status`: the status the token service answered. */
  readonly status: number | undefined;

  constructor(
    message: string,
    code: ClientAssertionErrorCode,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }
}
