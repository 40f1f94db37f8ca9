/**
 * The shape of the `ioredis` client the Redis store takes, typed here rather than imported so
 * `s2s-auth/redis` loads nothing from `ioredis` itself, and the check that a client has it.
 */
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

/** The client methods the store calls. */
const commands = ['get', 'set', 'del', 'pttl', 'eval', 'publish', 'duplicate'] as const;

/** Throws a `TypeError` unless `redis` has every method the store calls. */
export function assertRedisClient(redis: RedisClientLike, where: string): void {
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
}
