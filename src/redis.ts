/**
 * A shared store on Redis for fleets: one token request per token across every instance of a
 * service, tokens encrypted at rest, and DPoP proofs refused when replayed against a sibling.
 * Bring your own `ioredis` client (`Redis` or `Cluster`); this entry point loads nothing from
 * `ioredis` itself.
 *
 * @module s2s-auth/redis
 */
export { createRedisStore } from './runtime/redis/redis-store.js';
export type { RedisStore, RedisStoreOptions } from './runtime/redis/redis-store.js';
export { RedisStoreError } from './runtime/redis/redis-store-error.js';
export type { RedisStoreOperation } from './runtime/redis/redis-store-error.js';
export type { RedisClientLike, RedisSubscriberLike } from './runtime/redis/redis-client.js';
export type { TokenStore } from './runtime/shared/store.js';
export type { ReplayStore } from './runtime/server/replay-store.js';
export { AuthError } from './runtime/errors.js';
