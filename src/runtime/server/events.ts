import type { TokenErrorReason, TokenErrorStatus } from '../errors.js';
import type { JwksFetchReason } from './jwks-cache.js';

/**
 * What the resource server reports through `onEvent`. No event carries a token, a proof or
 * a claim value.
 *
 * - `jwks_fetched`: the issuer's key set was fetched; `reason` says why (`initial`,
 *   `max_age`, `ahead` for a background refresh, `unknown_kid`), `ok` how it ended.
 * - `verification_failed`: a token or request was refused; `reason` and `status` are those of
 *   the `TokenError`.
 */
export type ResourceServerEvent =
  | { type: 'jwks_fetched'; reason: JwksFetchReason; ok: boolean; keys?: number; error?: unknown }
  | { type: 'verification_failed'; reason: TokenErrorReason; status: TokenErrorStatus };
