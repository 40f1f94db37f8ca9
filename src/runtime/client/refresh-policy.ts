import type { CacheEntry } from './token-cache.js';
import type { AccessToken } from './types.js';

/** After a failed refresh, a still-valid token is served this long before the next attempt. */
export const STALE_RETRY_MS = 1000;

/**
 * When to stop serving a token: `skewMs` before expiry. A token that lives no longer than the
 * skew is served for half its life instead of never, so a short-lived token does not turn
 * every call into a token request. Unknown expiry: until evicted.
 */
export function refreshAt(
  issuedAtMs: number,
  expiresAt: number | undefined,
  skewMs: number,
): number {
  if (expiresAt === undefined) return Number.POSITIVE_INFINITY;
  const expiresAtMs = expiresAt * 1000;
  const lifetimeMs = expiresAtMs - issuedAtMs;
  return lifetimeMs > skewMs ? expiresAtMs - skewMs : issuedAtMs + lifetimeMs / 2;
}

/**
 * Until when a cached token can still be handed out (epoch ms): what callers fall back on
 * while the IdP fails, and what the circuit breaker lets a probe through in time for.
 * `undefined` when there is none left; `Infinity` for a token whose expiry is unknown.
 */
export function fallbackUntil(
  previous: CacheEntry<AccessToken> | undefined,
  nowMs: number,
): number | undefined {
  if (previous === undefined) return undefined;
  const expiresAt = previous.value.expires_at;
  if (expiresAt === undefined) return Number.POSITIVE_INFINITY;
  return expiresAt * 1000 > nowMs ? expiresAt * 1000 : undefined;
}

/**
 * Stale-while-error: the entry to serve instead of a failed refresh, when the cached token has
 * not expired (a token of unknown expiry is not served on), due again {@link STALE_RETRY_MS}
 * from now or at expiry; `undefined` when the failure must reach the callers.
 */
export function staleWhileError(
  previous: CacheEntry<AccessToken> | undefined,
  nowMs: number,
): CacheEntry<AccessToken> | undefined {
  const expiresAt = previous?.value.expires_at;
  if (previous === undefined || expiresAt === undefined || nowMs >= expiresAt * 1000) {
    return undefined;
  }
  return { value: previous.value, refreshAtMs: Math.min(nowMs + STALE_RETRY_MS, expiresAt * 1000) };
}
