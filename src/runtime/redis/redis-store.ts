import type { ReplayStore } from '../server/replay-store.js';
import { optionKeys, rejectUnknownOptions } from '../shared/options.js';
import type { TokenStore } from '../shared/store.js';
import { compareAndDelete } from './compare-and-delete.js';
import { createDeletionWatch } from './deletion-watch.js';
import { assertRedisClient, type RedisClientLike } from './redis-client.js';
import { runCommand as run } from './redis-store-error.js';
import { createValueCipher, type ValueCipher } from './value-cipher.js';

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

const where = 'createRedisStore';

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
  assertRedisClient(redis, where);
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

  const report = (error: Error) => {
    try {
      onError?.(error);
    } catch {
      // A throwing listener must not break the store.
    }
  };
  const watch = createDeletionWatch(redis, channel, report);

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
      const deleted = await run('delete', [], () => redis.del(name));
      if (deleted > 0) await watch.announce('delete', name);
    },
    async compareAndDelete(key, value) {
      const name = prefix + key;
      if (!(await run('compareAndDelete', [value], () => compareAndDelete(redis, name, value)))) {
        return false;
      }
      await watch.announce('compareAndDelete', name);
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
      return watch.waitUntilAbsent(prefix + key, timeoutMs);
    },
    close() {
      watch.close();
      return Promise.resolve();
    },
  };
}
