import { AuthError } from '../errors.js';
import type { ReplayStore } from '../server/replay-store.js';
import { optionKeys, rejectUnknownOptions } from '../shared/options.js';
import { redact } from '../shared/redact.js';
import type { TokenStore } from '../shared/store.js';
import { scheduleTimeout, type Timer } from '../shared/timers.js';
import { createValueCipher, type ValueCipher } from './value-cipher.js';

/**
 * The second connection {@link createRedisStore} opens with `redis.duplicate()` to hear about
 * deleted keys: an `ioredis` client fits.
 *
 * @see https://redis.io/docs/latest/develop/interact/pubsub/
 * @example
 * ```ts
 * const subscriber: RedisSubscriberLike = new Redis().duplicate();
 * ```
 */
export interface RedisSubscriberLike {
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  disconnect(): void;
}

/**
 * The commands {@link createRedisStore} sends, in the shape of an `ioredis` client (`Redis`
 * or `Cluster`). Typed here rather than imported, so `s2s-auth/redis` loads nothing from
 * `ioredis` itself: the caller's client is the only one.
 *
 * @see https://redis.io/docs/latest/commands/set/
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 *
 * const redis: RedisClientLike = new Redis(process.env.REDIS_URL);
 * ```
 */
export interface RedisClientLike {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, secondsToken: 'EX', seconds: number): Promise<unknown>;
  set(
    key: string,
    value: string,
    secondsToken: 'EX',
    seconds: number,
    nx: 'NX',
  ): Promise<'OK' | null>;
  del(key: string): Promise<number>;
  pttl(key: string): Promise<number>;
  /** Runs the compare-and-delete script; on a Cluster it goes to the node of its one key. */
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  duplicate(): RedisSubscriberLike;
}

/**
 * Options of {@link createRedisStore}.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @example
 * ```ts
 * const options: RedisStoreOptions = {
 *   prefix: 'billing:auth:',
 *   encryptionKey: Uint8Array.from(Buffer.from(process.env.TOKEN_CACHE_KEY!, 'base64')),
 * };
 * ```
 */
export interface RedisStoreOptions {
  /** Put before every key and the notification channel. Default `'s2s-auth:'`. */
  prefix?: string | undefined;
  /**
   * Encrypts the values of `set` (the cached tokens) with AES-256-GCM: 32 random bytes, or an
   * AES-GCM `CryptoKey` that may encrypt and decrypt. Each value gets a random 96-bit IV and is
   * bound to its key name, so it cannot be moved to another key. Every instance sharing the
   * store needs the same key; a value that does not decrypt is a miss, and so is one that was
   * not sealed. Lock values (`setIfAbsent`) are random owner tokens, no secret: they are stored
   * as given, so `compareAndDelete` can compare them on the server.
   *
   * Without it, tokens sit in Redis in the clear: anyone who can read the database (a replica,
   * a backup, `MONITOR`, a leaked password) can use them until they expire, and anyone who can
   * write it can hand the fleet a token of their choosing.
   */
  encryptionKey?: Uint8Array | CryptoKey | undefined;
  /**
   * Hears about problems the store handles itself: a value that did not decrypt (a wrong key,
   * a value moved or tampered with), and errors of the notification connection.
   */
  onError?: ((error: Error) => void) | undefined;
}

/** Every option of {@link RedisStoreOptions}; the compiler keeps the list complete. */
const REDIS_STORE_OPTION_KEYS = optionKeys<RedisStoreOptions>()([
  'prefix',
  'encryptionKey',
  'onError',
]);

/**
 * A {@link TokenStore} and `ReplayStore` on Redis, made by {@link createRedisStore}.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @example
 * ```ts
 * const store: RedisStore = createRedisStore(redis);
 * process.on('SIGTERM', () => store.close());
 * ```
 */
export interface RedisStore extends TokenStore, ReplayStore {
  /** The value `set` stored (opened, with `encryptionKey`), or `undefined`. */
  get(key: string): Promise<string | undefined>;
  /** `SET key value EX ttl`, the value sealed with `encryptionKey`. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** `SET key value EX ttl NX`, the value as given: the client's lock owner token. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** `DEL key`, then a notification to the waiters of every store on the same prefix. */
  delete(key: string): Promise<void>;
  /** One Lua script: deletes `key` only while it holds `value`, then notifies the waiters. */
  compareAndDelete(key: string, value: string): Promise<boolean>;
  checkAndSet(key: string, ttlSeconds: number): Promise<boolean>;
  waitUntilAbsent(key: string, timeoutMs: number): Promise<boolean>;
  /**
   * Closes the notification connection this store opened, if any. The client passed in is the
   * caller's: it stays open.
   */
  close(): Promise<void>;
}

/**
 * A store method that failed on Redis, in {@link RedisStoreError}.
 *
 * @see https://redis.io/docs/latest/develop/reference/protocol-spec/#simple-errors
 * @example
 * ```ts
 * const operation: RedisStoreOperation = 'setIfAbsent';
 * ```
 */
export type RedisStoreOperation =
  'get' | 'set' | 'setIfAbsent' | 'delete' | 'compareAndDelete' | 'checkAndSet' | 'waitUntilAbsent';

/**
 * A Redis command of {@link createRedisStore} failed: Redis answered with an error (`code` is
 * its error prefix: `OOM`, `READONLY`, `CLUSTERDOWN`, `ERR`, …) or did not answer at all
 * (`code` `unavailable`: connection closed, retries used up, command timed out).
 *
 * The `ioredis` error it replaces carries the command's arguments, the stored value among them;
 * this one does not: `cause` keeps only the original's name and message, with the values sent
 * removed. The token client reports it as a `store_error` event and asks the IdP directly.
 *
 * @see https://redis.io/docs/latest/develop/reference/protocol-spec/#simple-errors
 * @example
 * ```ts
 * try {
 *   await store.set('greeting', 'hello', 60);
 * } catch (error) {
 *   if (error instanceof RedisStoreError && error.code === 'READONLY') failover();
 * }
 * ```
 */
export class RedisStoreError extends AuthError {
  /** The store method that failed. */
  readonly operation: RedisStoreOperation;
  /** Redis's error prefix (`OOM`, `READONLY`, …), or `unavailable` when Redis did not answer. */
  readonly code: string;
  /** The `ioredis` error's name and message, scrubbed of the values sent; nothing else of it. */
  declare readonly cause: Error;

  constructor(operation: RedisStoreOperation, code: string, cause: Error) {
    super(`${where}: ${operation} failed on Redis (${code}): ${cause.message}`, { cause });
    this.operation = operation;
    this.code = code;
  }
}

const where = 'createRedisStore';
const commands = ['get', 'set', 'del', 'pttl', 'eval', 'publish', 'duplicate'] as const;

/**
 * Deletes KEYS[1] only while it holds ARGV[1], in one step on the server: a lock is released by
 * its owner only, never after it ran out and another instance took it.
 */
const compareAndDeleteScript =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * How often a waiter looks at the key again on its own: a notification can be lost (the
 * subscriber reconnecting, a cluster failover), and a lost one must cost a second, not the lock.
 */
const recheckMs = 1_000;

function wholeSeconds(ttlSeconds: number): number {
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError(`${where}: \`ttlSeconds\` must be a positive number`);
  }
  return Math.max(1, Math.ceil(ttlSeconds));
}

/** The store's own error for a failed command: no arguments, the values sent cut out. */
function storeError(
  operation: RedisStoreOperation,
  error: unknown,
  values: readonly (string | undefined)[],
): RedisStoreError {
  const original = error instanceof Error ? error : new Error(String(error));
  const message = redact(original.message, values);
  const replied = original.name === 'ReplyError' || /^[A-Z]{2,}\b/.test(original.message);
  const code = replied ? (/^([A-Z][A-Z_]+)\b/.exec(original.message)?.[1] ?? 'ERR') : 'unavailable';
  const cause = new Error(message);
  cause.name = original.name;
  return new RedisStoreError(operation, code, cause);
}

/**
 * A store on Redis through the caller's `ioredis` client, for a fleet: as `cache` of
 * `createAuthClient` it shares tokens between instances, so the fleet asks the IdP once per
 * token; as `replayStore` of `createResourceServer` it remembers DPoP proofs for every instance,
 * so a proof accepted by one is refused as a replay by the others.
 *
 * `setIfAbsent` and `checkAndSet` are one `SET key value NX EX ttl` each, atomic on the server;
 * `compareAndDelete` is one Lua script, so the token client releases only a lock it still
 * holds. `delete` and `compareAndDelete` announce a removed key on `<prefix>deleted` once Redis
 * has removed it, and `waitUntilAbsent` listens there on a second connection
 * (`redis.duplicate()`, opened on first use; {@link RedisStore.close} closes it), so instances
 * waiting for another's token request wake when it is done instead of polling. A waiter
 * trusts no announcement on its own: it reads the key's time to live after each one, and
 * every second in case one was lost.
 *
 * A `Cluster` client works as a `Redis` one: each command names one key, the token client's
 * keys for one token share a hash tag (`token:{…}` and `token-lock:{…}` land in one slot), and
 * announcements use classic pub/sub, which a cluster delivers on every node.
 *
 * Pass `encryptionKey` to keep tokens encrypted at rest (AES-256-GCM through WebCrypto); without
 * it they are stored in the clear. Bound the client's commands (`commandTimeout` in ioredis):
 * the token client gives up on slow calls itself, a resource server waits for its replay checks.
 * A failed command rejects with a {@link RedisStoreError}, which holds no stored value.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @see https://redis.io/docs/latest/commands/set/
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createAuthClient } from 's2s-auth/client';
 * import { createRedisStore } from 's2s-auth/redis';
 * import { createResourceServer } from 's2s-auth/server';
 *
 * const redis = new Redis(process.env.REDIS_URL!, { commandTimeout: 500 });
 * // or: new Redis.Cluster([{ host: 'redis-0', port: 6379 }], { redisOptions: { commandTimeout: 500 } })
 * const store = createRedisStore(redis, {
 *   encryptionKey: Uint8Array.from(Buffer.from(process.env.TOKEN_CACHE_KEY!, 'base64')), // 32 bytes
 * });
 *
 * const auth = createAuthClient({ issuer, clientId, clientSecret, cache: store });
 * const server = createResourceServer({ issuer, audience, replayStore: store });
 * ```
 */
export function createRedisStore(
  redis: RedisClientLike,
  options: RedisStoreOptions = {},
): RedisStore {
  if (
    typeof redis !== 'object' ||
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers in plain JavaScript can pass anything
    redis === null ||
    commands.some((name) => typeof redis[name] !== 'function')
  ) {
    throw new TypeError(
      `${where}: \`redis\` must be an ioredis client (Redis or Cluster) with ${commands.join(', ')}`,
    );
  }
  rejectUnknownOptions(options, REDIS_STORE_OPTION_KEYS, where);
  const prefix = options.prefix ?? 's2s-auth:';
  if (typeof prefix !== 'string') throw new TypeError(`${where}: \`prefix\` must be a string`);
  const { onError } = options;
  if (onError !== undefined && typeof onError !== 'function') {
    throw new TypeError(`${where}: \`onError\` must be a function`);
  }
  const cipher: ValueCipher | undefined =
    options.encryptionKey === undefined
      ? undefined
      : createValueCipher(options.encryptionKey, where);
  const channel = `${prefix}deleted`;

  /** Someone waiting for a key to go: `heard` when its name is announced, `stop` on close. */
  interface Waiter {
    heard(): void;
    stop(): void;
  }
  const waiting = new Map<string, Set<Waiter>>();
  let subscriber: RedisSubscriberLike | undefined;
  let subscribed: Promise<unknown> | undefined;

  const report = (error: Error) => {
    try {
      onError?.(error);
    } catch {
      // A throwing listener must not break the store.
    }
  };

  async function run<T>(
    operation: RedisStoreOperation,
    values: readonly (string | undefined)[],
    call: () => Promise<T>,
  ): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw storeError(operation, error, values);
    }
  }

  function subscribe(): Promise<unknown> {
    if (subscribed) return subscribed;
    subscriber ??= (() => {
      const connection = redis.duplicate();
      connection.on('message', (from, name) => {
        if (from !== channel) return;
        const listeners = waiting.get(name);
        if (listeners) for (const waiter of [...listeners]) waiter.heard();
      });
      connection.on('error', (error) => report(storeError('waitUntilAbsent', error, [])));
      return connection;
    })();
    const pending = subscriber.subscribe(channel);
    subscribed = pending;
    pending.catch(() => {
      if (subscribed === pending) subscribed = undefined;
    });
    return pending;
  }

  /** Tells every waiter on the prefix that `name` is gone. Sent only after Redis removed it. */
  async function announce(operation: RedisStoreOperation, name: string): Promise<void> {
    try {
      await redis.publish(channel, name);
    } catch (error) {
      // The key is gone all the same; waiters find out at their next look.
      report(storeError(operation, error, []));
    }
  }

  return {
    async get(key) {
      const name = prefix + key;
      const stored = await run('get', [], () => redis.get(name));
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a Redis client other than ioredis may answer undefined
      if (stored === null || stored === undefined) return undefined;
      if (!cipher) return stored;
      try {
        return await cipher.open(name, stored);
      } catch {
        report(
          new Error(
            `${where}: the value of ${name} does not decrypt with this key; treated as missing`,
          ),
        );
        return undefined;
      }
    },
    async set(key, value, ttlSeconds) {
      const name = prefix + key;
      const seconds = wholeSeconds(ttlSeconds);
      const stored = cipher ? await cipher.seal(name, value) : value;
      await run('set', [value, stored], () => redis.set(name, stored, 'EX', seconds));
    },
    async setIfAbsent(key, value, ttlSeconds) {
      const name = prefix + key;
      const seconds = wholeSeconds(ttlSeconds);
      const answer = await run('setIfAbsent', [value], () =>
        redis.set(name, value, 'EX', seconds, 'NX'),
      );
      return answer === 'OK';
    },
    async delete(key) {
      const name = prefix + key;
      // Announced after the reply, not beside it: on a cluster the announcement may travel
      // through another node than the key's, and nobody may hear of a delete before it happened.
      if ((await run('delete', [], () => redis.del(name))) > 0) await announce('delete', name);
    },
    async compareAndDelete(key, value) {
      const name = prefix + key;
      const deleted = await run('compareAndDelete', [value], () =>
        redis.eval(compareAndDeleteScript, 1, name, value),
      );
      if (deleted !== 1) return false;
      await announce('compareAndDelete', name);
      return true;
    },
    async checkAndSet(key, ttlSeconds) {
      const name = `${prefix}dpop-jti:${key}`;
      const seconds = wholeSeconds(ttlSeconds);
      return (
        (await run('checkAndSet', [], () => redis.set(name, '1', 'EX', seconds, 'NX'))) === 'OK'
      );
    },
    waitUntilAbsent(key, timeoutMs) {
      const name = prefix + key;
      return new Promise<boolean>((resolve, reject) => {
        const listeners = waiting.get(name) ?? new Set<Waiter>();
        waiting.set(name, listeners);
        let timesUp = false;
        let looking = false;
        let lookAgain = false;
        let recheck: Timer | undefined;
        const settle = (finish: () => void) => {
          if (!listeners.delete(waiter)) return;
          if (listeners.size === 0 && waiting.get(name) === listeners) waiting.delete(name);
          deadline.cancel();
          recheck?.cancel();
          finish();
        };
        // Every wake-up (announcement, expiry, recheck, deadline) reads the key's time to live:
        // an announcement proves nothing on its own, and the key may have been taken again.
        const look = () => {
          if (looking) {
            lookAgain = true;
            return;
          }
          looking = true;
          recheck?.cancel();
          run('waitUntilAbsent', [], () => redis.pttl(name)).then(
            (ttlMs) => {
              looking = false;
              if (!listeners.has(waiter)) return;
              if (ttlMs === -2) {
                settle(() => resolve(true));
                return;
              }
              if (lookAgain) {
                lookAgain = false;
                look();
                return;
              }
              if (timesUp) {
                settle(() => resolve(false));
                return;
              }
              // Expiry is not announced: look when it is due, and at least every recheckMs.
              const nextMs = ttlMs >= 0 ? Math.min(recheckMs, ttlMs + 1) : recheckMs;
              recheck = scheduleTimeout(look, nextMs);
            },
            (error: unknown) => {
              looking = false;
              settle(() => reject(error));
            },
          );
        };
        const waiter: Waiter = { heard: look, stop: () => settle(() => resolve(false)) };
        listeners.add(waiter);
        const deadline = scheduleTimeout(
          () => {
            timesUp = true;
            look();
          },
          Number.isNaN(timeoutMs) ? 0 : Math.max(0, timeoutMs),
        );
        // Listen first, then look: a delete between the two is heard, not missed.
        run('waitUntilAbsent', [], subscribe).then(look, (error: unknown) =>
          settle(() => reject(error)),
        );
      });
    },
    close() {
      for (const listeners of [...waiting.values()])
        for (const waiter of [...listeners]) waiter.stop();
      waiting.clear();
      const connection = subscriber;
      subscriber = undefined;
      subscribed = undefined;
      connection?.disconnect();
      return Promise.resolve();
    },
  };
}
