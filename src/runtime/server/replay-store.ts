import { defaultClock, type Clock } from '../shared/options.js';

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
  maxEntries?: number;
  /** The clock that expires entries. Default: the system clock. */
  now?: Clock;
}

/**
 * The default {@link ReplayStore}: a bounded map in this process. Expired keys are dropped as
 * new ones arrive; when it is full, the oldest key is forgotten. Since keys are written in
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
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError('createMemoryReplayStore: `maxEntries` must be a positive integer');
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError('createMemoryReplayStore: `now` must be a function returning a Date');
  }
  const now = options.now ?? defaultClock;
  /** Key → expiry in epoch milliseconds; insertion order is (nearly) expiry order. */
  const entries = new Map<string, number>();

  return {
    checkAndSet(key, ttlSeconds) {
      const at = now().getTime();
      const expiry = entries.get(key);
      if (expiry !== undefined && expiry > at) return false;
      if (expiry !== undefined) entries.delete(key);
      for (const [oldest, until] of entries) {
        if (until > at && entries.size < maxEntries) break;
        entries.delete(oldest);
      }
      entries.set(key, at + Math.max(1, ttlSeconds) * 1000);
      return true;
    },
  };
}
