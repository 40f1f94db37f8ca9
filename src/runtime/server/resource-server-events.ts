import type { TokenErrorReason, TokenErrorStatus } from '../token-error.js';
import type { JwksFetchReason } from './jwks-cache.js';
import type { JwksSkipCounts } from './key-set-index.js';

/**
 * What the resource server reports through `onEvent`. No event carries a token, a proof or key
 * material.
 *
 * - `jwks_fetched`: the issuer's key set was fetched; `reason` says why (`initial`,
 *   `max_age`, `ahead` for a background refresh, `unknown_kid`), `ok` how it ended. `keys` is
 *   the number of usable keys kept, `published` the number of members the set has, and
 *   `skipped` counts the members left out by reason (RFC 7517 §5). A set with more than
 *   `MAX_KEY_SET_SIZE` (100) members, or with no usable key, is `ok: false` with a
 *   `ProtocolError` naming the count.
 * - `verification_failed`: a token or request was refused; `reason`, `status`, `claim` and
 *   `detail` are those of the `TokenError`. `detail` says what was expected and what was
 *   found, quoting short values of the token (an `aud`, an `iss`, a `typ`, a `kid`, cut at 128
 *   characters), never the token itself: keep it out of metric labels.
 * - `token_introspected`: the authorization server was asked about a token (RFC 7662); `ok`
 *   says whether it answered, `active` what it answered, `durationMs` how long it took on the
 *   injected clock, and `error` (when not `ok`) why not, scrubbed of the token and the secret.
 * - `introspection_cache_hit`: an active introspection answer was reused from the cache.
 */
export type ResourceServerEvent =
  | {
      type: 'jwks_fetched';
      reason: JwksFetchReason;
      ok: boolean;
      keys?: number;
      published?: number;
      skipped?: JwksSkipCounts;
      error?: unknown;
    }
  | {
      type: 'verification_failed';
      reason: TokenErrorReason;
      status: TokenErrorStatus;
      claim?: string;
      detail?: string;
    }
  | {
      type: 'token_introspected';
      ok: boolean;
      active?: boolean;
      durationMs: number;
      error?: unknown;
    }
  | { type: 'introspection_cache_hit' };
