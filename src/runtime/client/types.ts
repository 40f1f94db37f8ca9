import { optionKeys } from '../shared/options.js';
import type { DpopProofOptions } from '../dpop/proof.js';
import type { ListInput, TokenParameters } from './cache-key.js';
import type { ExchangeTokenOptions } from './token-exchange-request.js';
import type { ExchangedToken } from './token-exchange-response.js';

export type {
  ClientAssertionAudience,
  ClientAuthMethod,
  ClientSecretBasicEncoding,
} from './client-authentication.js';
export type { DpopKeyPair, DpopProofOptions } from '../dpop/proof.js';
export type { ListInput, TokenParameters } from './cache-key.js';
export type { ResourceAs } from './token-request.js';
export type { ProfileName } from '../profiles/types.js';
export type { CircuitBreakerOptions, RetryOptions } from '../transport/resilience.js';
export type { AuthClientEvent, StoreOperation, TokenSlot } from './auth-client-events.js';
export type { ExchangeSlot, TokenExchangeEvent } from './auth-client-events.js';
export type { AuthClientOptions } from './client-options.js';

/** Options of {@link AuthClient.getToken}: each one given overrides the client's default. */
export interface GetTokenOptions {
  /** Scopes for this token instead of the default ones. */
  scope?: ListInput | undefined;
  /** Resource indicator(s) for this token instead of the default ones. */
  resource?: ListInput | undefined;
  /**
   * Token-request parameters for this token, laid over the client's `tokenParameters` name by
   * name (a name given here replaces that default's values; the others stay). Part of the
   * cache key.
   */
  tokenParameters?: TokenParameters | undefined;
  /** Skip the cache: fetch a new token and replace the cached one. */
  forceRefresh?: boolean | undefined;
  /**
   * Stop waiting: the call rejects with a `NetworkError`. A token request other callers share
   * goes on for them.
   */
  signal?: AbortSignal | undefined;
}

/** Every option of {@link GetTokenOptions}; the compiler keeps the list complete. */
export const GET_TOKEN_OPTION_KEYS = optionKeys<GetTokenOptions>()([
  'scope',
  'resource',
  'tokenParameters',
  'forceRefresh',
  'signal',
]);

/**
 * Options of {@link AuthClient.fetch}: the `fetch` options, plus the scopes and resources of the
 * token to send, as {@link AuthClient.getToken} takes them. `scope`, `resource` and
 * `tokenParameters` are taken out before the request is made.
 *
 * @example
 * ```ts
 * await auth.fetch('https://ledger.example.com/entries', {
 *   method: 'POST',
 *   body,
 *   scope: 'ledger:write',
 *   resource: 'https://ledger.example.com',
 * });
 * ```
 */
export interface AuthorisedFetchInit extends RequestInit {
  /** Scopes of the token for this call instead of the client's defaults. */
  scope?: ListInput | undefined;
  /** RFC 8707 resource indicator(s) of the token for this call instead of the client's defaults. */
  resource?: ListInput | undefined;
  /** Token-request parameters of the token for this call, laid over the client's defaults. */
  tokenParameters?: TokenParameters | undefined;
}

/** An access token as the client hands it out (RFC 6749 §5.1). */
export interface AccessToken {
  /** The token to send: `1*VSCHAR` (RFC 6749 Appendix A.12). A credential: never log it whole. */
  access_token: string;
  /**
   * `'DPoP'` when the token is bound to the client's DPoP key (the only type a DPoP client
   * accepts, RFC 9449 §5), `'Bearer'` otherwise; the server's spelling is normalised.
   */
  token_type: 'Bearer' | 'DPoP';
  /**
   * Lifetime in seconds, as the server sent it (positive, at most ten years); a string of
   * digits, as Entra's v1.0 endpoint sends it, is its number.
   */
  expires_in?: number;
  /** Expiry in epoch seconds on the client's clock. */
  expires_at?: number;
  /** The granted scopes, when the server said. */
  scope?: string;
}

/** A client-credentials token client. Create one with {@link createAuthClient}. */
export interface AuthClient {
  /** A token for the given (or default) scopes and resources: cached, refreshed, single-flight. */
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /** The `access_token` string of {@link AuthClient.getToken}. */
  getAccessToken(options?: GetTokenOptions): Promise<string>;
  /**
   * Token exchange (RFC 8693 §2.1): a token for another audience, resource or type, in
   * exchange for `subjectToken` (and, for delegation, `actorToken`), asked of the token
   * endpoint with this client's authentication and DPoP key. Cached per subject, actor and
   * target until `refreshSkewSeconds` before it expires, never past the `exp` of the subject
   * or actor token (nor of the client assertion it was bought with); one request in flight
   * per slot. Bad options are an `OptionError`; the server's refusal an `OAuthError` whose
   * `code` is RFC 8693 §2.2.2's (`invalid_target`, `invalid_request`). The subject and actor
   * tokens never appear in an error or event.
   *
   * @see https://www.rfc-editor.org/rfc/rfc8693#section-2
   * @example
   * ```ts
   * const downstream = await auth.exchangeToken({
   *   subjectToken: incomingAccessToken,
   *   subjectTokenType: TokenTypes.accessToken,
   *   audience: 'ledger-api',
   * });
   * ```
   */
  exchangeToken(options: ExchangeTokenOptions): Promise<ExchangedToken>;
  /** Drops every cached token, exchanged ones included; the next call fetches. */
  clearCache(): void;
  /** An RFC 9449 proof signed with this client's DPoP key. Throws `TypeError` when DPoP is off. */
  buildDpopProof(options: DpopProofOptions): Promise<string>;
  /**
   * `fetch` with this client's token (for its default scopes and resources, or those in
   * `init`): sets `Authorization`, adds a DPoP proof when DPoP is on, retries once on a
   * `use_dpop_nonce` challenge and once, with a new token, on a 401 `invalid_token`. A token
   * causes at most one forced refresh, however many calls it fails; a new token the same
   * server refuses as well is not refreshed again. An error raised on the way (by `Headers`
   * or the underlying `fetch`) never carries the token or the DPoP proof.
   */
  fetch(input: RequestInfo | URL, init?: AuthorisedFetchInit): Promise<Response>;
  /** Stops background refreshes and drops the cache. The client stays usable. */
  close(): void;
}
