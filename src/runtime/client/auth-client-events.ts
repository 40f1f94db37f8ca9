import type { TokenStore } from '../shared/store.js';
/**
 * Which call to the client's shared `cache` store failed, in a `store_error` event: one of the
 * {@link TokenStore} methods, or `decode` for a stored value that is not a token entry.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 * @example
 * ```ts
 * const auth = createAuthClient({
 *   issuer, clientId, clientSecret, cache,
 *   onEvent(event) {
 *     if (event.type === 'store_error') metrics.increment('token_store_errors', { operation: event.operation });
 *   },
 * });
 * ```
 */
export type StoreOperation =
  'get' | 'set' | 'setIfAbsent' | 'delete' | 'compareAndDelete' | 'waitUntilAbsent' | 'decode';

/** Which token an event is about: its scope set and resource set (never the token). */
export interface TokenSlot {
  /** Space-separated, sorted scopes; empty for none. */
  scope: string;
  resource: readonly string[];
  /** The names of its `tokenParameters`, sorted, when it has any; never their values. */
  parameters?: readonly string[];
}

/**
 * Which token exchange an event is about: its target, never the subject or actor token.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */
export interface ExchangeSlot {
  /** The `audience` values, sorted. */
  audience: readonly string[];
  /** The `resource` values, sorted. */
  resource: readonly string[];
  /** Space-separated, sorted scopes; empty for none. */
  scope: string;
  /** The `requested_token_type`, when one was asked for. */
  requestedTokenType?: string;
}

/**
 * What `exchangeToken` reports through `onEvent` (RFC 8693). No event carries a token.
 *
 * - `exchange_cache_hit` / `exchange_cache_miss`: an exchange served from the cache, or not.
 * - `token_exchanged`: the token endpoint issued a token for the exchange.
 * - `token_exchange_failed`: the exchange failed (`error`, its secrets scrubbed).
 */
export type TokenExchangeEvent =
  | { type: 'exchange_cache_hit'; slot: ExchangeSlot }
  | { type: 'exchange_cache_miss'; slot: ExchangeSlot }
  | {
      type: 'token_exchanged';
      slot: ExchangeSlot;
      tokenType: 'Bearer' | 'DPoP' | 'N_A';
      issuedTokenType: string;
      expiresAt: number | undefined;
      durationMs: number;
      forced: boolean;
    }
  | { type: 'token_exchange_failed'; slot: ExchangeSlot; error: unknown };

/**
 * What the client reports through `onEvent`. No event carries a token or a secret.
 *
 * - `cache_hit` / `cache_miss`: a `getToken` call served from the cache, or not.
 * - `token_fetched`: a new token arrived; `refresh` says why it was asked for.
 * - `token_failed`: a token request failed; `servedStale` says callers got the cached token,
 *   still valid, instead of the error.
 * - `shared_cache_hit`: a token came from the shared `cache` store instead of the IdP.
 * - `store_error`: a call to the shared `cache` store failed, timed out or found a value that
 *   is not a token entry; the client went on without it. `error` holds its name and message.
 * - the {@link TokenExchangeEvent}s of `exchangeToken`.
 */
export type AuthClientEvent =
  | { type: 'cache_hit'; slot: TokenSlot }
  | { type: 'cache_miss'; slot: TokenSlot }
  | {
      type: 'token_fetched';
      slot: TokenSlot;
      tokenType: 'Bearer' | 'DPoP';
      expiresAt: number | undefined;
      durationMs: number;
      refresh: 'none' | 'expiring' | 'forced' | 'ahead';
    }
  | { type: 'token_failed'; slot: TokenSlot; error: unknown; servedStale: boolean }
  | { type: 'shared_cache_hit'; slot: TokenSlot }
  | { type: 'store_error'; slot: TokenSlot; operation: StoreOperation; error: Error }
  | TokenExchangeEvent;

/** Why a token was asked for: none cached, the cached one due, forced, or ahead of time. */
export type RefreshReason = Extract<AuthClientEvent, { type: 'token_fetched' }>['refresh'];
