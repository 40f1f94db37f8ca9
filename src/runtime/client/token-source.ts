import type { Clock } from '../shared/options.js';
import { rejectUnknownOptions } from '../shared/options.js';
import {
  resolveTokenParameters,
  slotOf,
  tokenTarget,
  type NormalisedParameters,
  type TokenTarget,
} from './cache-key.js';
import type { AuthClientEvent, RefreshReason } from './auth-client-events.js';
import { createRefreshAhead } from './refresh-ahead.js';
import { staleWhileError } from './refresh-policy.js';
import type { SharedTokenCache } from './shared-token-cache.js';
import type { CacheEntry, TokenCache } from './token-cache.js';
import { checkTokenTarget, type TokenRequestShape } from './token-request.js';
import { GET_TOKEN_OPTION_KEYS, type AccessToken, type GetTokenOptions } from './types.js';
import { untilAborted } from './until-aborted.js';

/** What {@link createTokenSource} needs from the client that owns it. */
export interface TokenSourceContext {
  cache: TokenCache<AccessToken>;
  /** The fleet's shared cache, when there is one: a second level behind `cache`. */
  shared: SharedTokenCache | undefined;
  /** Asks the IdP for a new token. */
  fetchToken: (target: TokenTarget) => Promise<CacheEntry<AccessToken>>;
  /** The client's default scopes, resources and token parameters. */
  defaults: TokenTarget;
  shape: TokenRequestShape;
  now: Clock;
  emit: ((event: AuthClientEvent) => void) | undefined;
  refreshAheadMs: number | undefined;
}

/** `getToken` and what stops it: the cache policy of the client. */
export interface TokenSource {
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /** Stops background refreshes. */
  close(): void;
}

/**
 * The token cache policy: a fresh cached token is handed out; otherwise one load per target
 * (single flight), through the shared cache when there is one, with stale-while-error: when
 * the request fails but the cached token has not expired, every waiter gets that token
 * instead of the error, and the next attempt waits a moment; only an expired token turns into
 * an error. Tokens callers use are refreshed ahead of time when `refreshAheadMs` is set.
 */
export function createTokenSource(context: TokenSourceContext): TokenSource {
  const { cache, shared, fetchToken, defaults, shape, now, emit } = context;
  const ahead = createRefreshAhead(context.refreshAheadMs, now, (target) => {
    load(target, 'ahead').catch(() => undefined);
  });

  function load(target: TokenTarget, refresh: RefreshReason): Promise<AccessToken> {
    return cache.load(target.key, async () => {
      const startedMs = now().getTime();
      try {
        const entry = shared
          ? await shared.load(target, refresh, () => fetchToken(target))
          : await fetchToken(target);
        if (!('shared' in entry)) {
          emit?.({
            type: 'token_fetched',
            slot: slotOf(target),
            tokenType: entry.value.token_type,
            expiresAt: entry.value.expires_at,
            durationMs: now().getTime() - startedMs,
            refresh,
          });
        }
        ahead.schedule(target, entry.refreshAtMs);
        return entry;
      } catch (error) {
        const stale = staleWhileError(cache.peek(target.key), now().getTime());
        emit?.({ type: 'token_failed', slot: slotOf(target), error, servedStale: !!stale });
        if (!stale) throw error;
        return stale;
      }
    });
  }

  function callTarget(options: GetTokenOptions): TokenTarget {
    const parameters: NormalisedParameters = resolveTokenParameters(
      options.tokenParameters,
      'getToken',
      'tokenParameters',
      defaults.parameters,
    );
    const target = tokenTarget(
      options.scope ?? defaults.scopes,
      options.resource ?? defaults.resources,
      'getToken',
      parameters,
    );
    checkTokenTarget(target, shape, 'getToken');
    return target;
  }

  function getToken(options: GetTokenOptions = {}): Promise<AccessToken> {
    let target: TokenTarget;
    try {
      rejectUnknownOptions(options, GET_TOKEN_OPTION_KEYS, 'getToken');
      target =
        options.scope === undefined &&
        options.resource === undefined &&
        options.tokenParameters === undefined
          ? defaults
          : callTarget(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const nowMs = now().getTime();
    ahead.used(target.key, nowMs);
    if (options.forceRefresh !== true) {
      const cached = cache.fresh(target.key, nowMs);
      if (cached) {
        emit?.({ type: 'cache_hit', slot: slotOf(target) });
        return Promise.resolve(cached);
      }
      emit?.({ type: 'cache_miss', slot: slotOf(target) });
    }
    const refresh =
      options.forceRefresh === true ? 'forced' : cache.peek(target.key) ? 'expiring' : 'none';
    return untilAborted(load(target, refresh), options.signal);
  }

  return { getToken, close: () => ahead.close() };
}
