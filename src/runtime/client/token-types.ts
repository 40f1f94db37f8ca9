/**
 * Token type identifiers for token exchange: what a `subject_token`, `actor_token` or
 * `requested_token_type` is, and what `issued_token_type` says was issued.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-3
 */

/**
 * The registered token type URIs (RFC 8693 §3), and `jwt` (RFC 7519 §9) for a JWT that is not
 * one of the other kinds, such as a Kubernetes service-account token or a CI system's OIDC
 * token.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-3
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-9
 * @example
 * ```ts
 * const delegated = await auth.exchangeToken({
 *   subjectToken: incomingAccessToken,
 *   subjectTokenType: TokenTypes.accessToken,
 *   audience: 'ledger-api',
 * });
 * ```
 */
export const TokenTypes = Object.freeze({
  /** An OAuth 2.0 access token. */
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  /** An OAuth 2.0 refresh token. */
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  /** An OpenID Connect ID Token. */
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  /** A base64url-encoded SAML 1.1 assertion. */
  saml1: 'urn:ietf:params:oauth:token-type:saml1',
  /** A base64url-encoded SAML 2.0 assertion. */
  saml2: 'urn:ietf:params:oauth:token-type:saml2',
  /** A JWT (RFC 7519 §9). */
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const);

/** One of the {@link TokenTypes}, or any other absolute URI a server defines. */
export type TokenType = (typeof TokenTypes)[keyof typeof TokenTypes] | (string & {});

/** An absolute URI (RFC 3986 §4.3) without whitespace or control characters. */
const absoluteUri = /^[A-Za-z][A-Za-z0-9+.-]*:[^\u0000-\u0020\u007f]+$/;

/**
 * Whether `value` can be a token type identifier: RFC 8693 §3 makes them URIs, and every
 * server's own types are absolute URIs too.
 */
export function isTokenTypeUri(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 512 && absoluteUri.test(value);
}
