import { defaultClock, optionKeys, rejectUnknownOptions, type Clock } from './options.js';
import { scheduleTimeout, type Timer } from './timers.js';

/**
 * A key-value store with expiry that several instances of a service can share: the token
 * client keeps tokens in it (`createAuthClient({ cache })`) so a fleet asks the authorization
 * server once per token instead of once per process. Values are strings; every method may
 * answer at once or with a promise.
 *
 * `setIfAbsent` must be atomic across everyone sharing the store: the client builds its
 * distributed single flight (a lock with a time to live) on it. The lock's value is a random
 * owner token drawn for each acquisition, never a token or a secret, and the client releases
 * the lock with {@link TokenStore.compareAndDelete}, so an instance that outlived its lock
 * cannot release the lock another instance has taken since. A store that can also wake a
 * waiter when a key goes away implements {@link TokenStore.waitUntilAbsent}; without it,
 * waiters poll with a bounded backoff.
 *
 * Keys the client writes for one token (the token and its lock) share a Redis Cluster hash
 * tag (`token:{…}`, `token-lock:{…}`), so a store on a cluster keeps them in one hash slot.
 *
 * The client never fails because its store did: a store that throws, rejects, answers late
 * or holds garbage only costs a direct token request, reported through `onEvent`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 * @example
 * ```ts
 * import { createAuthClient, createMemoryStore } from 's2s-auth/client';
 *
 * // One store for every client in this process; use s2s-auth/redis to share across processes.
 * const cache = createMemoryStore();
 * const orders = createAuthClient({ issuer, clientId, clientSecret, cache });
 * ```
 */
export interface TokenStore {
  /** The value stored under `key`, or `undefined` (or `null`) when there is none or it expired. */
  get(key: string): string | undefined | null | Promise<string | undefined | null>;
  /** Stores `value` under `key` for `ttlSeconds` (a whole number, at least 1), replacing any value. */
  set(key: string, value: string, ttlSeconds: number): void | Promise<void>;
  /**
   * Atomically stores `value` under `key` for `ttlSeconds` unless the key holds a live value.
   *
   * @returns `true` if this call stored the value, `false` if the key was taken.
   */
  setIfAbsent(key: string, value: string, ttlSeconds: number): boolean | Promise<boolean>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(key: string): void | Promise<void>;
  /**
   * Optional, and recommended for any store shared between processes: atomically removes
   * `key` only if it holds `value` now (a compare-and-delete; on Redis, one Lua script:
   * `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end`).
   * The client releases its lock with it, so a lock that ran out and was taken by another
   * instance stays with that instance.
   *
   * A store without it still works: the client then reads the lock back and deletes it only
   * while it holds its own value and less than half of the lock's time has passed on the
   * client's clock; otherwise it leaves the lock to expire. That read-then-delete is two calls,
   * not one atomic step.
   *
   * @returns `true` if this call removed the key, `false` if it held another value or none.
   * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
   */
  compareAndDelete?(key: string, value: string): boolean | Promise<boolean>;
  /**
   * Optional: resolves once `key` holds no value — at once if it holds none now, when a
   * `delete` or `compareAndDelete` through any store on the same backend removes it, or when it
   * expires — with `true`; or with `false` after `timeoutMs`. Lets the client sleep until
   * another instance's token request is over instead of polling the store. `timeoutMs` and the
   * key's time to live may exceed what one `setTimeout` can wait (2³¹−1 ms, about 24.8 days):
   * wait in steps no longer than that, or a longer timer fires after 1 ms.
   */
  waitUntilAbsent?(key: string, timeoutMs: number): Promise<boolean>;
}

/**
 * Options of {@link createMemoryStore}.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @example
 * ```ts
 * const store = createMemoryStore({ maxEntries: 10_000 });
 * ```
 */
export interface MemoryStoreOptions {
  /** How many keys it holds at most; the oldest are forgotten first. Default `100000`. */
  maxEntries?: number | undefined;
  /** The clock that expires entries. Default: the system clock. */
  now?: Clock | undefined;
}

/** Every option of {@link MemoryStoreOptions}; the compiler keeps the list complete. */
const MEMORY_STORE_OPTION_KEYS = optionKeys<MemoryStoreOptions>()(['maxEntries', 'now']);

/**
 * The in-process store of {@link createMemoryStore}: a {@link TokenStore} for the client's
 * shared cache and a `ReplayStore` for a resource server's DPoP proofs.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @example
 * ```ts
 * const store: MemoryStore = createMemoryStore();
 * await store.set('greeting', 'hello', 60);
 * ```
 */
export interface MemoryStore extends TokenStore {
  get(key: string): string | undefined;
  set(key: string, value: string, ttlSeconds: number): void;
  setIfAbsent(key: string, value: string, ttlSeconds: number): boolean;
  delete(key: string): void;
  /** Removes `key` only while it holds `value`, waking its waiters; `true` if it did. */
  compareAndDelete(key: string, value: string): boolean;
  waitUntilAbsent(key: string, timeoutMs: number): Promise<boolean>;
  /**
   * The `ReplayStore` method: records `key` for `ttlSeconds` unless it is recorded already.
   *
   * @returns `true` if the key was new, `false` if it was there.
   */
  checkAndSet(key: string, ttlSeconds: number): boolean;
  /** How many keys it holds now, expired ones not yet dropped included. */
  readonly size: number;
}

interface Entry {
  value: string;
  expiresAtMs: number;
}

/**
 * The bounded map with expiry that both in-process stores are made of: the token client's
 * `createMemoryStore` and the resource server's default replay store.
 *
 * @internal
 */
export interface TtlMap {
  readonly now: Clock;
  readonly entries: Map<string, Entry>;
  /** The entry under `key` if it lives at `atMs`; an expired one is dropped. */
  readonly live: (key: string, atMs: number) => Entry | undefined;
  /** Stores `value` under `key` from `atMs`, forgetting expired keys and, past the bound, the oldest. */
  readonly store: (key: string, value: string, ttlSeconds: number, atMs: number) => void;
  /** Stores `value` under `key` now unless a live value is there; `true` if it did. */
  readonly setIfAbsent: (key: string, value: string, ttlSeconds: number) => boolean;
}

/**
 * Checks the options and makes a {@link TtlMap}; `forgotten` hears of every key that still
 * lived when the bound pushed it out. `where` names the factory in errors.
 *
 * @internal
 */
export function createTtlMap(
  options: MemoryStoreOptions,
  where: string,
  forgotten?: (key: string) => void,
): TtlMap {
  rejectUnknownOptions(options, MEMORY_STORE_OPTION_KEYS, where);
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError(`${where}: \`maxEntries\` must be a positive integer`);
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError(`${where}: \`now\` must be a function returning a Date`);
  }
  const now = options.now ?? defaultClock;
  const entries = new Map<string, Entry>();

  function live(key: string, atMs: number): Entry | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs > atMs) return entry;
    entries.delete(key);
    return undefined;
  }

  function store(key: string, value: string, ttlSeconds: number, atMs: number): void {
    if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
      throw new TypeError(`${where}: \`ttlSeconds\` must be a positive number`);
    }
    const expiresAtMs = atMs + Math.ceil(ttlSeconds) * 1000;
    entries.delete(key);
    for (const [oldest, entry] of entries) {
      if (entry.expiresAtMs > atMs && entries.size < maxEntries) break;
      entries.delete(oldest);
      if (entry.expiresAtMs > atMs) forgotten?.(oldest);
    }
    entries.set(key, { value, expiresAtMs });
  }

  return {
    now,
    entries,
    live,
    store,
    setIfAbsent(key, value, ttlSeconds) {
      const atMs = now().getTime();
      if (live(key, atMs) !== undefined) return false;
      store(key, value, ttlSeconds, atMs);
      return true;
    },
  };
}

type Waiter = (absent: boolean) => void;

/**
 * A bounded store in this process, for the token client's `cache` and a resource server's
 * `replayStore`: every key expires, and past `maxEntries` the oldest key is forgotten. Keys
 * are written in roughly the order they expire, so the oldest one is the nearest its end.
 * Expiry is read on `now`; a waiter sleeps until the entry it waits on would expire, however
 * far away, with timers that never overflow.
 *
 * It shares nothing between processes: a fleet passes a shared store such as
 * `createRedisStore` from `s2s-auth/redis` instead.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @example
 * ```ts
 * import { createAuthClient, createMemoryStore } from 's2s-auth/client';
 *
 * const cache = createMemoryStore({ maxEntries: 1000 });
 * const billing = createAuthClient({ issuer, clientId: 'billing', clientSecret, cache });
 * const reports = createAuthClient({ issuer, clientId: 'billing', clientSecret, cache, scope: 'reports:read' });
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const waiters = new Map<string, Set<Waiter>>();
  const wake = (key: string) => {
    const set = waiters.get(key);
    if (set === undefined) return;
    waiters.delete(key);
    for (const waiter of set) waiter(true);
  };
  const { now, entries, live, store, setIfAbsent } = createTtlMap(
    options,
    'createMemoryStore',
    wake,
  );

  return {
    get(key) {
      return live(key, now().getTime())?.value;
    },
    set(key, value, ttlSeconds) {
      store(key, value, ttlSeconds, now().getTime());
    },
    setIfAbsent,
    delete(key) {
      entries.delete(key);
      wake(key);
    },
    compareAndDelete(key, value) {
      if (live(key, now().getTime())?.value !== value) return false;
      entries.delete(key);
      wake(key);
      return true;
    },
    checkAndSet(key, ttlSeconds) {
      return setIfAbsent(key, '1', ttlSeconds);
    },
    waitUntilAbsent(key, timeoutMs) {
      if (live(key, now().getTime()) === undefined) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const set = waiters.get(key) ?? new Set<Waiter>();
        waiters.set(key, set);
        let timer: Timer | undefined;
        const finish: Waiter = (absent) => {
          timer?.cancel();
          set.delete(finish);
          if (set.size === 0 && waiters.get(key) === set) waiters.delete(key);
          resolve(absent);
        };
        // What is left of the wait, charged with each step slept: timers never fire early.
        let remainingMs = Number.isNaN(timeoutMs) ? 0 : Math.max(0, timeoutMs);
        // Expiry sends no signal: look again when the entry would expire on the store's clock,
        // or when the wait is over, whichever is first. The timers are clamped and re-armed, so a
        // time to live of days or months is slept through, not polled.
        const arm = () => {
          const entry = live(key, now().getTime());
          if (entry === undefined) {
            finish(true);
            return;
          }
          if (remainingMs <= 0) {
            finish(false);
            return;
          }
          const stepMs = Math.min(remainingMs, Math.max(1, entry.expiresAtMs - now().getTime()));
          timer = scheduleTimeout(() => {
            remainingMs -= stepMs;
            arm();
          }, stepMs);
        };
        set.add(finish);
        arm();
      });
    },
    get size() {
      return entries.size;
    },
  };
}
