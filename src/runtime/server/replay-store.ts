import type { Clock } from '../shared/options.js';
import { createTtlMap } from '../shared/store.js';

/**
 * Where a resource server remembers the DPoP proofs (`jti`s) it has accepted, so a captured
 * proof cannot be played again (RFC 9449 §11.1). Several instances of one service share a store
 * to catch a proof replayed against a sibling.
 *
 * `checkAndSet` must be atomic: record `key` for `ttlSeconds` unless it is already recorded
 * and not yet expired, and say which happened. A Redis store does it with
 * `SET key 1 NX EX ttl`. If it throws or rejects, the proof is refused.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @example
 * ```ts
 * const replayStore: ReplayStore = {
 *   async checkAndSet(key, ttlSeconds) {
 *     return (await redis.set(`dpop:${key}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
 *   },
 * };
 * const server = createResourceServer({ issuer, audience, replayStore });
 * ```
 */
export interface ReplayStore {
  /**
   * @param key - identifies one proof; at most a few hundred characters.
   * @param ttlSeconds - a whole number of seconds, at least 1, after which the key may be forgotten.
   * @returns `true` if the key was new and is now recorded, `false` if it was already there.
   */
  checkAndSet(key: string, ttlSeconds: number): boolean | Promise<boolean>;
}

/**
 * Options of {@link createMemoryReplayStore}.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @example
 * ```ts
 * const replayStore = createMemoryReplayStore({ maxEntries: 50_000, now: () => new Date() });
 * ```
 */
export interface MemoryReplayStoreOptions {
  /** How many keys it holds at most; the oldest are forgotten first. Default `100000`. */
  maxEntries?: number | undefined;
  /** The clock that expires entries. Default: the system clock. */
  now?: Clock | undefined;
}

/**
 * The default {@link ReplayStore}: a bounded map in this process, the same one that serves
 * `createMemoryStore`. Expired keys are dropped as new ones arrive; when it is full, the oldest
 * key is forgotten. A time to live that is not a positive number is refused with a `TypeError`,
 * which the verifier turns into a refused proof. Since keys are written in
 * roughly the order they expire, the oldest one is the nearest its end, so forgetting it opens
 * the smallest replay window. A service on several instances should pass a shared store.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @example
 * ```ts
 * const server = createResourceServer({
 *   issuer,
 *   audience: 'https://orders.example.com',
 *   replayStore: createMemoryReplayStore({ maxEntries: 10_000 }),
 * });
 * ```
 */
export function createMemoryReplayStore(options: MemoryReplayStoreOptions = {}): ReplayStore {
  const map = createTtlMap(options, 'createMemoryReplayStore');
  return { checkAndSet: (key, ttlSeconds) => map.setIfAbsent(key, '1', ttlSeconds) };
}
