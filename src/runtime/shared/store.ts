import { defaultClock, optionKeys, rejectUnknownOptions, type Clock } from './options.js';

/**
 * A key-value store with expiry that several instances of a service can share: the token
 * client keeps tokens in it (`createAuthClient({ cache })`) so a fleet asks the authorization
 * server once per token instead of once per process. Values are strings; every method may
 * answer at once or with a promise.
 *
 * `setIfAbsent` must be atomic across everyone sharing the store: the client builds its
 * distributed single flight (a lock with a time to live) on it. A store that can also wake a
 * waiter when a key goes away implements {@link TokenStore.waitUntilAbsent}; without it,
 * waiters poll with a bounded backoff.
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
   * Optional: resolves once `key` holds no value — at once if it holds none now, when a
   * `delete` through any store on the same backend removes it, or when it expires — with
   * `true`; or with `false` after `timeoutMs`. Lets the client sleep until another instance's
   * token request is over instead of polling the store.
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

type Waiter = (absent: boolean) => void;

function ttlMs(ttlSeconds: number, where: string): number {
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError(`${where}: \`ttlSeconds\` must be a positive number`);
  }
  return Math.max(1, Math.ceil(ttlSeconds)) * 1000;
}

/**
 * A bounded store in this process, for the token client's `cache` and a resource server's
 * `replayStore`: every key expires, and past `maxEntries` the oldest key is forgotten. Keys
 * are written in roughly the order they expire, so the oldest one is the nearest its end.
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
  const where = 'createMemoryStore';
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
  const waiters = new Map<string, Set<Waiter>>();

  function live(key: string, atMs: number): Entry | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs > atMs) return entry;
    entries.delete(key);
    return undefined;
  }

  function store(key: string, value: string, ttlSeconds: number, atMs: number): void {
    const expiresAtMs = atMs + ttlMs(ttlSeconds, where);
    entries.delete(key);
    for (const [oldest, entry] of entries) {
      if (entry.expiresAtMs > atMs && entries.size < maxEntries) break;
      entries.delete(oldest);
      if (entry.expiresAtMs > atMs) wake(oldest);
    }
    entries.set(key, { value, expiresAtMs });
  }

  function wake(key: string): void {
    const set = waiters.get(key);
    if (set === undefined) return;
    waiters.delete(key);
    for (const waiter of set) waiter(true);
  }

  function setIfAbsent(key: string, value: string, ttlSeconds: number): boolean {
    const atMs = now().getTime();
    if (live(key, atMs) !== undefined) return false;
    store(key, value, ttlSeconds, atMs);
    return true;
  }

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
    checkAndSet(key, ttlSeconds) {
      return setIfAbsent(key, '1', ttlSeconds);
    },
    waitUntilAbsent(key, timeoutMs) {
      const entry = live(key, now().getTime());
      if (entry === undefined) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const set = waiters.get(key) ?? new Set<Waiter>();
        waiters.set(key, set);
        const finish: Waiter = (absent) => {
          clearTimeout(timer);
          set.delete(finish);
          if (set.size === 0 && waiters.get(key) === set) waiters.delete(key);
          resolve(absent);
        };
        // Expiry sends no signal: look again when the entry would have expired.
        const untilExpiryMs = Math.max(0, entry.expiresAtMs - now().getTime());
        const timer = setTimeout(
          () => finish(live(key, now().getTime()) === undefined),
          Math.min(Math.max(0, timeoutMs), untilExpiryMs),
        );
        set.add(finish);
      });
    },
    get size() {
      return entries.size;
    },
  };
}
