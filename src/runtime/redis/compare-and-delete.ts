/**
 * Releasing the fleet lock: compare-and-delete in one Lua script on the server, so a lock is
 * released by its owner only, never after it ran out and another instance took it. On a
 * Cluster the script goes to the node of its one key.
 */
import type { RedisClientLike } from './redis-client.js';

/**
 * Deletes KEYS[1] only while it holds ARGV[1], in one step on the server: a lock is released by
 * its owner only, never after it ran out and another instance took it.
 */
const compareAndDeleteScript =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Deletes `name` only while it holds `value`; `true` when it did. */
export async function compareAndDelete(
  redis: RedisClientLike,
  name: string,
  value: string,
): Promise<boolean> {
  return (await redis.eval(compareAndDeleteScript, 1, name, value)) === 1;
}
