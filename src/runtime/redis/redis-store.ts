import type { ReplayStore } from '../server/replay-store.js';
import { optionKeys, rejectUnknownOptions } from '../shared/options.js';
import type { TokenStore } from '../shared/store.js';
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
   * Encrypts the values of `set` and `setIfAbsent` (the cached tokens) with AES-256-GCM: 32
   * random bytes, or an AES-GCM `CryptoKey` that may encrypt and decrypt. Each value gets a
   * random 96-bit IV and is bound to its key name, so it cannot be moved to another key. Every
   * instance sharing the store needs the same key; a value that does not decrypt is a miss.
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
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  checkAndSet(key: string, ttlSeconds: number): Promise<boolean>;
  waitUntilAbsent(key: string, timeoutMs: number): Promise<boolean>;
  /**
   * Closes the notification connection this store opened, if any. The client passed in is the
   * caller's: it stays open.
   */
  close(): Promise<void>;
}

const where = 'createRedisStore';
const commands = ['get', 'set', 'del', 'pttl', 'publish', 'duplicate'] as const;

function wholeSeconds(ttlSeconds: number): number {
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError(`${where}: \`ttlSeconds\` must be a positive number`);
  }
  return Math.max(1, Math.ceil(ttlSeconds));
}

/**
 * A store on Redis through the caller's `ioredis` client, for a fleet: as `cache` of
 * `createAuthClient` it shares tokens between instances, so the fleet asks the IdP once per
 * token; as `replayStore` of `createResourceServer` it remembers DPoP proofs for every instance,
 * so a proof accepted by one is refused as a replay by the others.
 *
 * `setIfAbsent` and `checkAndSet` are one `SET key value NX EX ttl` each, atomic on the server.
 * `delete` also publishes the key name on `<prefix>deleted`, and `waitUntilAbsent` listens
 * there on a second connection (`redis.duplicate()`, opened on first use; {@link
 * RedisStore.close} closes it), so instances waiting for another's token request wake when it
 * is done instead of polling.
 *
 * Pass `encryptionKey` to keep tokens encrypted at rest (AES-256-GCM through WebCrypto); without
 * it they are stored in the clear. Bound the client's commands (`commandTimeout` in ioredis):
 * the token client gives up on slow calls itself, a resource server waits for its replay checks.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @see https://redis.io/docs/latest/commands/set/
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createAuthClient } from 's2s-auth/client';
 * import { createRedisStore } from 's2s-auth/redis';
 * import { createResourceServer } from 's2s-auth/server';
 *
 * const redis = new Redis(process.env.REDIS_URL!, { commandTimeout: 500 });
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
    redis === null ||
    commands.some((name) => typeof redis[name] !== 'function')
  ) {
    throw new TypeError(`${where}: \`redis\` must be an ioredis client (Redis or Cluster)`);
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
  const waiting = new Map<string, Set<(absent: boolean) => void>>();
  let subscriber: RedisSubscriberLike | undefined;
  let subscribed: Promise<unknown> | undefined;

  const report = (error: Error) => {
    try {
      onError?.(error);
    } catch {
      // A throwing listener must not break the store.
    }
  };

  function subscribe(): Promise<unknown> {
    if (subscribed) return subscribed;
    subscriber ??= (() => {
      const connection = redis.duplicate();
      connection.on('message', (from, name) => {
        if (from !== channel) return;
        const listeners = waiting.get(name);
        if (listeners) for (const wake of [...listeners]) wake(true);
      });
      connection.on('error', report);
      return connection;
    })();
    const pending = subscriber.subscribe(channel);
    subscribed = pending;
    pending.catch(() => {
      if (subscribed === pending) subscribed = undefined;
    });
    return pending;
  }

  const seal = (name: string, value: string) => (cipher ? cipher.seal(name, value) : value);

  return {
    async get(key) {
      const name = prefix + key;
      const stored = await redis.get(name);
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
      await redis.set(name, await seal(name, value), 'EX', wholeSeconds(ttlSeconds));
    },
    async setIfAbsent(key, value, ttlSeconds) {
      const name = prefix + key;
      return (
        (await redis.set(name, await seal(name, value), 'EX', wholeSeconds(ttlSeconds), 'NX')) ===
        'OK'
      );
    },
    async delete(key) {
      const name = prefix + key;
      // One connection keeps order: the key is gone before anyone hears that it is.
      await Promise.all([redis.del(name), redis.publish(channel, name)]);
    },
    async checkAndSet(key, ttlSeconds) {
      return (
        (await redis.set(`${prefix}dpop-jti:${key}`, '1', 'EX', wholeSeconds(ttlSeconds), 'NX')) ===
        'OK'
      );
    },
    waitUntilAbsent(key, timeoutMs) {
      const name = prefix + key;
      return new Promise<boolean>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const listeners = waiting.get(name) ?? new Set<(absent: boolean) => void>();
        waiting.set(name, listeners);
        const settle = (finish: () => void) => {
          if (!listeners.delete(listener)) return;
          if (listeners.size === 0 && waiting.get(name) === listeners) waiting.delete(name);
          clearTimeout(timer);
          finish();
        };
        const listener = (absent: boolean) => settle(() => resolve(absent));
        listeners.add(listener);
        timer = setTimeout(listener, Math.max(0, timeoutMs), false);
        // Listen first, then look: a delete between the two is heard, not missed.
        subscribe()
          .then(() => redis.pttl(name))
          .then(
            (ttlMs) => {
              if (ttlMs === -2) listener(true);
              else if (ttlMs >= 0 && ttlMs < timeoutMs) {
                // Expiry is not announced: wake when it happens.
                clearTimeout(timer);
                timer = setTimeout(listener, ttlMs + 1, true);
              }
            },
            (error: unknown) => settle(() => reject(error)),
          );
      });
    },
    async close() {
      for (const listeners of waiting.values()) for (const wake of [...listeners]) wake(false);
      waiting.clear();
      const connection = subscriber;
      subscriber = undefined;
      subscribed = undefined;
      connection?.disconnect();
    },
  };
}
