/**
 * Token exchange (RFC 8693): a token for another audience, resource or type in exchange for a
 * subject token (and, for delegation, an actor token). Three separate steps, as for
 * client-credentials tokens: {@link prepareTokenExchange} (`token-exchange-request.ts`) checks
 * the caller's options and builds the form, {@link processTokenExchangeResponse}
 * (`token-exchange-response.ts`) checks and maps the answer, and {@link createTokenExchanger},
 * here, caches the results per subject, actor and target with one request in flight per slot.
 * Sending (client authentication, DPoP proof, transport) is the client's, injected as `send`.
 */
import { sha256Base64url } from '../crypto/backend.js';
import type { Clock } from '../shared/options.js';
import type { ExchangeSlot, TokenExchangeEvent } from './auth-client-events.js';
import { earlierExpiry } from './client-assertion.js';
import type { GrantSender } from './fetch-token.js';
import { refreshAt } from './refresh-policy.js';
import { TokenCache } from './token-cache.js';
import {
  prepareTokenExchange,
  type ExchangeTokenOptions,
  type TokenExchangeRequest,
} from './token-exchange-request.js';
import { processTokenExchangeResponse, type ExchangedToken } from './token-exchange-response.js';

/**
 * The cache key of an exchange: base64url(SHA-256) of the subject and actor tokens, their types
 * and the normalised target (audiences, resources, scopes, requested type). The tokens are not
 * kept: a key says nothing about them, and a store or log that sees it learns nothing.
 */
export async function tokenExchangeCacheKey(request: TokenExchangeRequest): Promise<string> {
  return `exchange:${await sha256Base64url(JSON.stringify(request.identity))}`;
}

/** What a {@link TokenExchanger} needs. */
export interface TokenExchangerOptions {
  /**
   * Sends one exchange and returns the checked token: the client authenticates, adds a DPoP
   * proof when DPoP is on, sends `request.parameters` to the token endpoint, and maps the answer
   * with {@link processTokenExchangeResponse}. Errors reach every caller waiting on that slot and
   * are never cached.
   */
  send: (request: TokenExchangeRequest) => Promise<ExchangedToken>;
  now: Clock;
  /** Stop serving a cached token this long before it expires. */
  refreshSkewSeconds: number;
  /** The most exchanged tokens kept; past it the least recently stored goes. Default: 1000. */
  maxEntries?: number | undefined;
  /** Observability: cache hits and misses, exchanged tokens and failures. Default: none. */
  emit?: ((event: TokenExchangeEvent) => void) | undefined;
}

/** The target of an exchange, for events: never the subject or actor token. */
export function exchangeSlotOf(request: TokenExchangeRequest): ExchangeSlot {
  const { audience, resource, scope, requested_token_type } = request.parameters;
  const slot: ExchangeSlot = {
    audience: audience ?? [],
    resource: resource ?? [],
    scope: scope ?? '',
  };
  if (requested_token_type !== undefined) slot.requestedTokenType = requested_token_type;
  return slot;
}

/** Exchanges tokens, caching each result per subject, actor and target. */
export interface TokenExchanger {
  /** An exchanged token for `options`: from the cache while fresh, otherwise one request. */
  exchange(options: ExchangeTokenOptions): Promise<ExchangedToken>;
  /** Drops every cached exchanged token. */
  clear(): void;
}

/**
 * The cache and single flight of token exchange. A slot is keyed by
 * {@link tokenExchangeCacheKey}; concurrent callers for one slot share one request; a failure is
 * not cached; `forceRefresh` skips the cache and replaces the slot. A token is served until
 * `refreshSkewSeconds` before its `expires_at` (which is never past the subject token's `exp`);
 * a token whose expiry is unknown is not cached at all, since nothing says when the subject's
 * grant behind it ends.
 */
export function createTokenExchanger(options: TokenExchangerOptions): TokenExchanger {
  const { send, now, emit } = options;
  const skewMs = options.refreshSkewSeconds * 1000;
  const cache = new TokenCache<ExchangedToken>(options.maxEntries ?? 1000);
  return {
    async exchange(exchangeOptions) {
      const request = prepareTokenExchange(exchangeOptions);
      const key = await tokenExchangeCacheKey(request);
      const slot = exchangeSlotOf(request);
      if (!request.forceRefresh) {
        const fresh = cache.fresh(key, now().getTime());
        if (fresh !== undefined) {
          emit?.({ type: 'exchange_cache_hit', slot });
          return fresh;
        }
        emit?.({ type: 'exchange_cache_miss', slot });
      }
      return cache.load(key, async () => {
        const sentAtMs = now().getTime();
        let token: ExchangedToken;
        try {
          token = await send(request);
        } catch (error) {
          emit?.({ type: 'token_exchange_failed', slot, error });
          throw error;
        }
        emit?.({
          type: 'token_exchanged',
          slot,
          tokenType: token.token_type,
          issuedTokenType: token.issued_token_type,
          expiresAt: token.expires_at,
          durationMs: now().getTime() - sentAtMs,
          forced: request.forceRefresh,
        });
        return {
          value: token,
          // Unknown expiry: served to nobody after this request (due as soon as it is stored).
          refreshAtMs:
            token.expires_at === undefined
              ? sentAtMs
              : refreshAt(sentAtMs, token.expires_at, skewMs),
        };
      });
    },
    clear: () => cache.clear(),
  };
}

/**
 * Sends one token exchange (RFC 8693 §2.1) on the client's send path and reads its answer
 * (RFC 8693 §2.2.1): the token is not served past the subject or actor token, nor past the
 * client assertion the request carried.
 */
export async function sendTokenExchange(
  send: GrantSender,
  request: TokenExchangeRequest,
): Promise<ExchangedToken> {
  const { token } = await send({
    form: request.parameters,
    secrets: request.secrets,
    read: (answer, call, { dpop, sentAtMs, notAfter }) =>
      processTokenExchangeResponse(answer, call, {
        dpop,
        sentAtMs,
        notAfter: earlierExpiry(request.notAfter, notAfter),
      }),
  });
  return token;
}
