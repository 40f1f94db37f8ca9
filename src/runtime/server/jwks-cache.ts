/**
 * The issuer's key set, cached per resource server: when to fetch it again, what to do while
 * it cannot be fetched, and which of its keys a token may have been signed with.
 */

import type { Clock } from '../shared/options.js';
import { createSingleFlight } from '../shared/single-flight.js';
import type { AsymmetricAlgorithm } from '../crypto/algorithms.js';
import { reject } from './rejection.js';
import { shown } from './token-policy.js';
import {
  candidates,
  describeMiss,
  indexKeySet,
  type IndexedKeySet,
  type JwksSkipCounts,
  type VerificationKey,
} from './key-set-index.js';
import { importVerificationKey } from './signature.js';

export type { VerificationKey } from './key-set-index.js';

/** The part of a key set the cache reads; members it does not know are ignored. */
export interface KeySetLike {
  /** The members, each read on its own: one the cache cannot use is skipped (RFC 7517 §5). */
  readonly keys: readonly unknown[];
}

export interface JwksCacheOptions {
  /** Reads the key set from the authorization server; may throw. */
  fetchKeySet: () => Promise<KeySetLike>;
  now: Clock;
  /** A key set this old is refreshed before use. */
  maxAgeSeconds: number;
  /** At most one fetch starts per window, whatever the reason: a `kid` miss, age or a failure. */
  cooldownSeconds: number;
  /** While refreshes fail, a key set is used until it is this old, then never. */
  maxStaleSeconds: number;
  /** Told about every fetch of the key set: why it started and how it ended. */
  onFetch?: (outcome: JwksFetchOutcome) => void;
}

/** Why the key set was fetched. */
export type JwksFetchReason = 'initial' | 'max_age' | 'ahead' | 'unknown_kid';

/** One fetch of the key set, for observability. Never holds key material. */
export interface JwksFetchOutcome {
  reason: JwksFetchReason;
  ok: boolean;
  /** Keys kept from the set: usable signing keys, public members only. */
  keys?: number;
  /** Members the set has, usable or not (when the answer was a key set). */
  published?: number;
  /** Members skipped, by reason; absent when none was. */
  skipped?: JwksSkipCounts;
  error?: unknown;
}

/**
 * A key set this far into its maximum age is refreshed in the background while it keeps being
 * used, so under steady traffic no verification waits for the key set.
 */
const REFRESH_AHEAD_FRACTION = 0.8;

/** The issuer's verification keys, cached per resource server. */
export interface JwksCache {
  /**
   * The keys that may have signed a token with this `kid` (any key when `undefined`) and
   * `alg`. Throws a rejection with reason `key` when none fits after the allowed refetch, and
   * `jwks` when no key set young enough to use could be had.
   */
  keysFor(kid: string | undefined, alg: AsymmetricAlgorithm): Promise<VerificationKey[]>;
}

/**
 * A key-set cache in the manner of RFC 8725 §3.1's advice to select keys only from the
 * issuer's own set: one fetch in flight shared by every caller, a maximum age, one refetch per
 * cooldown window (so a burst of forged `kid`s, or an authorization server that is down, costs
 * at most one request per window), and a bounded grace period on the last good set while
 * refreshes fail. Every time is read from the injected clock.
 */
export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const maxAgeMs = options.maxAgeSeconds * 1000;
  const cooldownMs = options.cooldownSeconds * 1000;
  const maxStaleMs = options.maxStaleSeconds * 1000;
  const refreshAheadMs = maxAgeMs * REFRESH_AHEAD_FRACTION;
  let keySet: IndexedKeySet | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let lastError: unknown;
  const inFlight = createSingleFlight<undefined, undefined>();

  /** Starts a fetch unless one is running (join it) or the cooldown forbids one (`undefined`). */
  function refresh(at: number, reason: JwksFetchReason): Promise<void> | undefined {
    const running = inFlight.pending(undefined);
    if (running) return running;
    if (at - lastAttempt < cooldownMs) return undefined;
    lastAttempt = at;
    return inFlight.run(undefined, async () => {
      let published: number | undefined;
      try {
        const fetched = await options.fetchKeySet();
        const members = Array.isArray(fetched.keys) ? fetched.keys : [];
        published = members.length;
        keySet = indexKeySet(members, at);
        lastError = undefined;
        const skipped = Object.keys(keySet.skipped).length === 0 ? {} : { skipped: keySet.skipped };
        options.onFetch?.({ reason, ok: true, keys: keySet.entries.length, published, ...skipped });
      } catch (error) {
        lastError = error;
        options.onFetch?.({
          reason,
          ok: false,
          ...(published === undefined ? {} : { published }),
          error,
        });
      }
    });
  }

  function usableSet(at: number): IndexedKeySet {
    if (keySet === undefined || at - keySet.fetchedAt >= maxStaleMs) {
      // The next fetch may start once the cooldown window of the last one has passed.
      const retryAfter = Math.max(1, Math.ceil((lastAttempt + cooldownMs - at) / 1000));
      reject('jwks', 'the signing keys of the issuer are unavailable', {
        retryAfter,
        ...(lastError === undefined ? {} : { cause: lastError }),
      });
    }
    return keySet;
  }

  async function keysFor(
    kid: string | undefined,
    alg: AsymmetricAlgorithm,
  ): Promise<VerificationKey[]> {
    const at = options.now().getTime();
    if (keySet === undefined) await refresh(at, 'initial');
    else if (at - keySet.fetchedAt >= maxAgeMs) await refresh(at, 'max_age');
    else if (at - keySet.fetchedAt >= refreshAheadMs) void refresh(at, 'ahead');
    let found = candidates(usableSet(at), kid, alg);
    if (found.length === 0) {
      const refetch = refresh(at, 'unknown_kid');
      if (refetch) {
        await refetch;
        found = candidates(usableSet(at), kid, alg);
      }
    }
    if (found.length === 0) {
      reject('key', 'no key of the issuer matches the token', {
        detail: describeMiss(usableSet(at), kid, alg),
      });
    }
    const keys: VerificationKey[] = [];
    for (const entry of found) {
      let imported = entry.imported.get(alg);
      if (imported === undefined) {
        imported = importVerificationKey(entry.jwk, alg).then((key) =>
          key === undefined ? undefined : { key, kid: entry.kid, issuer: entry.issuer },
        );
        entry.imported.set(alg, imported);
      }
      const key = await imported;
      if (key !== undefined) keys.push(key);
    }
    if (keys.length === 0) {
      reject('key', 'no key of the issuer matches the token', {
        detail: `${kid === undefined ? 'the token names no kid' : `kid ${shown(kid)} is in the key set`}, but no key of it can verify ${alg} (import refused)`,
      });
    }
    return keys;
  }

  return { keysFor };
}
