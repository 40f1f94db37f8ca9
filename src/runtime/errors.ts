/**
 * The errors s2s-auth throws on purpose. Every one extends {@link AuthError}, carries a
 * machine-readable field to branch on (`code` for the IdP's OAuth errors, for transport and
 * protocol failures, for client assertions and mutual TLS) and never holds a client secret, a
 * private key or a whole token in its message, fields or `cause`. The resource server's
 * `TokenError`, with its `reason`, is in `token-error.ts`.
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
