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
 * What the client reports through `onEvent`. No event carries a token or a secret.
 *
 * - `cache_hit` / `cache_miss`: a `getToken` call served from the cache, or not.
 * - `token_fetched`: a new token arrived; `refresh` says why it was asked for.
 * - `token_failed`: a token request failed; `servedStale` says callers got the cached token,
 *   still valid, instead of the error.
 * - `shared_cache_hit`: a token came from the shared `cache` store instead of the IdP.
 * - `store_error`: a call to the shared `cache` store failed, timed out or found a value that
 *   is not a token entry; the client went on without it. `error` holds its name and message.
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
  | { type: 'store_error'; slot: TokenSlot; operation: StoreOperation; error: Error };

/** Why a token was asked for: none cached, the cached one due, forced, or ahead of time. */
export type RefreshReason = Extract<AuthClientEvent, { type: 'token_fetched' }>['refresh'];
