/**
 * The shared cache on a real Redis that misbehaves: stopped, paused beyond the store timeout,
 * or holding garbage. Every getToken still succeeds through the IdP, within a bounded time,
 * and onEvent says what went wrong with the store.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthClient,
  type AuthClientEvent,
  type AuthClientOptions,
} from '../../../src/client.js';
import { createRedisStore, type RedisStore, type RedisStoreOptions } from '../../../src/redis.js';
import { CLIENTS, RESOURCES, SCOPES, startIdp, type TestIdp } from '../../support/idp.js';
import { startRedis, type TestRedis } from './support/redis-server.js';

let idp: TestIdp;
let server: TestRedis;
let admin: Redis;
const stores: RedisStore[] = [];
let prefixes = 0;

beforeAll(async () => {
  [idp, server] = await Promise.all([startIdp(), startRedis()]);
  admin = server.client();
});

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await Promise.all([idp.close(), server.stop()]);
});

const tokenRequests = () => idp.count('/token', 'POST');

function store(options: RedisStoreOptions = {}) {
  const made = createRedisStore(server.client(), { prefix: `degrade-${++prefixes}:`, ...options });
  stores.push(made);
  return made;
}

function client(
  cache: RedisStore,
  events: AuthClientEvent[] = [],
  overrides: Partial<AuthClientOptions> = {},
) {
  return createAuthClient({
    issuer: idp.issuer,
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    scope: SCOPES.ordersRead,
    resource: RESOURCES.jwt,
    cache,
    cacheTimeoutMs: 200,
    onEvent: (event) => events.push(event),
    ...overrides,
  });
}

const storeErrors = (events: AuthClientEvent[]) =>
  events.flatMap((event) => (event.type === 'store_error' ? [event] : []));

async function untilRedisAnswers(): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await admin.ping().catch(() => undefined)) === 'PONG') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('redis-server did not come back');
}

describe('the shared cache on a Redis that is down or slow', () => {
  it('serves tokens from the IdP while Redis is stopped, and uses Redis again once it is back', async () => {
    const cache = store();
    await client(cache).getToken();
    await server.kill();
    try {
      for (let instance = 0; instance < 3; instance++) {
        const events: AuthClientEvent[] = [];
        const before = tokenRequests();
        const started = Date.now();
        const token = await client(cache, events).getToken();
        expect(token.access_token).toBeTruthy();
        expect(tokenRequests() - before).toBe(1);
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(storeErrors(events).map((event) => event.operation)).toContain('get');
      }
    } finally {
      await server.restart();
      await untilRedisAnswers();
    }
    // Back: one instance stores a token, the next one takes it from Redis.
    await client(cache).getToken();
    const events: AuthClientEvent[] = [];
    const before = tokenRequests();
    await client(cache, events).getToken();
    expect(tokenRequests() - before).toBe(0);
    expect(events.map((event) => event.type)).toContain('shared_cache_hit');
  });

  it('does not wait for a Redis paused beyond the store timeout', async () => {
    const cache = store();
    await client(cache).getToken();
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    try {
      const events: AuthClientEvent[] = [];
      const started = Date.now();
      const token = await client(cache, events).getToken();
      const tookMs = Date.now() - started;
      expect(token.access_token).toBeTruthy();
      expect(tookMs).toBeLessThan(1_000);
      const [error] = storeErrors(events);
      expect(error?.operation).toBe('get');
      expect(error?.error.message).toMatch(/did not answer get within 200 ms/);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
    }
  });
});

describe('the shared cache on a Redis holding garbage', () => {
  const garbage = [
    '',
    'garbage',
    '{"v":1}',
    '\u0000\u0001binary',
    's2s1.AAAA.BBBB',
    '{"v":1,"access_token":5}',
  ];

  it('reports garbage under a plain store key, asks the IdP and stores a good entry over it', async () => {
    const cache = store();
    await client(cache).getToken();
    const [key] = await admin.keys(`degrade-${prefixes}:token:*`);
    expect(key).toBeDefined();
    for (const value of garbage) {
      await admin.set(key!, value, 'EX', 60);
      const events: AuthClientEvent[] = [];
      const before = tokenRequests();
      expect(await client(cache, events).getAccessToken()).toBeTruthy();
      expect(tokenRequests() - before, JSON.stringify(value)).toBe(1);
      // Read before and after taking the lock: each read that finds garbage says so.
      const operations = storeErrors(events).map((event) => event.operation);
      expect(operations).toContain('decode');
      expect(new Set(operations)).toEqual(new Set(['decode']));
      expect(await admin.get(key!)).toMatch(/^\{"v":1,"access_token":/);
    }
  });

  it('treats garbage under an encrypted store key as a miss, reports it and seals a good entry over it', async () => {
    const problems: Error[] = [];
    const cache = store({
      encryptionKey: crypto.getRandomValues(new Uint8Array(32)),
      onError: (e) => problems.push(e),
    });
    await client(cache).getToken();
    const [key] = await admin.keys(`degrade-${prefixes}:token:*`);
    expect(key).toBeDefined();
    for (const value of garbage) {
      await admin.set(key!, value, 'EX', 60);
      const before = tokenRequests();
      expect(await client(cache).getAccessToken()).toBeTruthy();
      expect(tokenRequests() - before).toBe(1);
      expect(await admin.get(key!)).toMatch(/^s2s1\./);
    }
    expect(problems.length).toBeGreaterThanOrEqual(garbage.length);
    for (const problem of problems) expect(problem.message).toContain('does not decrypt');
  });

  it('gets past a lock key holding garbage that never expires, after twice the lock time', async () => {
    const cache = store();
    await client(cache).getToken();
    const [key] = await admin.keys(`degrade-${prefixes}:token:*`);
    await admin.del(key!);
    await admin.set(key!.replace(':token:', ':token-lock:'), 'garbage');
    const events: AuthClientEvent[] = [];
    const before = tokenRequests();
    const started = Date.now();
    expect(await client(cache, events, { cacheLockSeconds: 1 }).getAccessToken()).toBeTruthy();
    expect(tokenRequests() - before).toBe(1);
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
