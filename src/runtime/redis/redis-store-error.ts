/**
 * What the Redis store throws when a command fails: {@link RedisStoreError}, which holds no
 * argument of the command and none of the values sent.
 */
import { AuthError } from '../errors.js';
import { redact } from '../shared/redact.js';

const where = 'createRedisStore';

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

/** The store's own error for a failed command: no arguments, the values sent cut out. */
export function storeError(
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

/** Runs one command of `operation`; a failure becomes its {@link RedisStoreError}, `values` cut out. */
export async function runCommand<T>(
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
