/**
 * createRedisStore against a real redis-server on 127.0.0.1: the TokenStore and ReplayStore
 * methods, expiry, lock release by its owner only, the wake-up on delete, timers for keys that
 * live for weeks, encryption at rest, and errors that hold no stored value, read back with a
 * plain ioredis client.
 */
import { inspect } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  AuthError,
  createRedisStore,
  RedisStoreError,
  type RedisClientLike,
  type RedisStore,
} from '../../../src/redis.js';
import type { ReplayStore } from '../../../src/server.js';
import type { TokenStore } from '../../../src/client.js';
import { freePort, startRedis, type TestRedis } from './support/redis-server.js';

let server: TestRedis;
let redis: Redis;
let prefixes = 0;
/** A fresh prefix per test, so tests never see each other's keys. */
const prefix = () => `test-${++prefixes}:`;
const stores: RedisStore[] = [];
function store(options: Parameters<typeof createRedisStore>[1] = {}) {
  const made = createRedisStore(redis, { prefix: prefix(), ...options });
  stores.push(made);
  return made;
}

const key32 = () => crypto.getRandomValues(new Uint8Array(32));
const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcmRlcnMtd29ya2VyIn0.c2lnbmF0dXJl';

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await server.stop();
});

describe('createRedisStore as a TokenStore', () => {
  it('takes an ioredis client as it is, Redis or Cluster, and is both a TokenStore and a ReplayStore', () => {
    expectTypeOf<Redis>().toExtend<RedisClientLike>();
    expectTypeOf<Cluster>().toExtend<RedisClientLike>();
    expectTypeOf<RedisStore>().toExtend<TokenStore>();
    expectTypeOf<RedisStore>().toExtend<ReplayStore>();
  });

  it('gets what it set, under the prefix, with the time to live asked for', async () => {
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p });
    await s.set('a', 'value', 60);
    expect(await s.get('a')).toBe('value');
    expect(await redis.get(`${p}a`)).toBe('value');
    const ttl = await redis.ttl(`${p}a`);
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('answers undefined for a key it does not hold', async () => {
    expect(await store().get('missing')).toBeUndefined();
  });

  it('rounds a fractional time to live up to whole seconds and refuses a non-positive one', async () => {
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p });
    await s.set('a', 'v', 0.2);
    expect(await redis.ttl(`${p}a`)).toBe(1);
    await expect(s.set('b', 'v', 0)).rejects.toThrow(TypeError);
    await expect(s.setIfAbsent('b', 'v', Number.NaN)).rejects.toThrow(TypeError);
    expect(await redis.exists(`${p}b`)).toBe(0);
  });

  it('forgets a value when its time to live is over', async () => {
    const s = store();
    await s.set('short', 'v', 1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await s.get('short')).toBeUndefined();
  });

  it('sets a key if absent once, and refuses while it lives', async () => {
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p });
    expect(await s.setIfAbsent('lock', 'first', 30)).toBe(true);
    expect(await s.setIfAbsent('lock', 'second', 30)).toBe(false);
    expect(await s.get('lock')).toBe('first');
    expect(await redis.ttl(`${p}lock`)).toBeGreaterThan(25);
  });

  it('lets exactly one of many concurrent setIfAbsent calls win, across connections', async () => {
    const p = prefix();
    const others = Array.from({ length: 8 }, () =>
      createRedisStore(server.client(), { prefix: p }),
    );
    const results = await Promise.all(
      others.map((s, i) => s.setIfAbsent('lock', `holder-${i}`, 30)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('deletes a key, and deleting a missing key is fine', async () => {
    const s = store();
    await s.set('a', 'v', 60);
    await s.delete('a');
    expect(await s.get('a')).toBeUndefined();
    await expect(s.delete('a')).resolves.toBeUndefined();
  });
});

describe('createRedisStore releasing a lock', () => {
  it('compare-and-deletes in one script: removes the key only while it holds the value given', async () => {
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p });
    await s.setIfAbsent('lock', 'owner-a', 30);
    expect(await s.compareAndDelete('lock', 'owner-b')).toBe(false);
    expect(await redis.get(`${p}lock`)).toBe('owner-a');
    expect(await s.compareAndDelete('lock', 'owner-a')).toBe(true);
    expect(await redis.exists(`${p}lock`)).toBe(0);
    expect(await s.compareAndDelete('lock', 'owner-a')).toBe(false);
  });

  it('leaves the lock another holder took after the first one ran out', async () => {
    const p = prefix();
    const slow = createRedisStore(server.client(), { prefix: p });
    const next = createRedisStore(server.client(), { prefix: p });
    await redis.set(`${p}lock`, 'slow-owner', 'PX', 150);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await next.setIfAbsent('lock', 'next-owner', 30)).toBe(true);
    expect(await slow.compareAndDelete('lock', 'slow-owner')).toBe(false);
    expect(await redis.get(`${p}lock`)).toBe('next-owner');
  });

  it('wakes a waiter on another connection when the owner releases, and not when someone else tries', async () => {
    const p = prefix();
    const holder = createRedisStore(server.client(), { prefix: p });
    const waiter = createRedisStore(server.client(), { prefix: p });
    stores.push(holder, waiter);
    await holder.setIfAbsent('lock', 'owner', 30);
    const waited = waiter.waitUntilAbsent('lock', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await holder.compareAndDelete('lock', 'not-the-owner')).toBe(false);
    const early = await Promise.race([
      waited,
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 150)),
    ]);
    expect(early).toBe('still waiting');
    const started = Date.now();
    expect(await holder.compareAndDelete('lock', 'owner')).toBe(true);
    expect(await waited).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('createRedisStore waiting for a key to go', () => {
  it('answers at once for a key that is not there', async () => {
    const started = Date.now();
    expect(await store().waitUntilAbsent('nothing', 5_000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('wakes a waiter on another connection when the key is deleted', async () => {
    const p = prefix();
    const holder = createRedisStore(server.client(), { prefix: p });
    const waiter = createRedisStore(server.client(), { prefix: p });
    stores.push(holder, waiter);
    await holder.setIfAbsent('lock', 'me', 30);
    const started = Date.now();
    const waited = waiter.waitUntilAbsent('lock', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await holder.delete('lock');
    expect(await waited).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('wakes a waiter when the key expires', async () => {
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p });
    stores.push(s);
    await redis.set(`${p}lock`, 'x', 'PX', 400);
    const started = Date.now();
    expect(await s.waitUntilAbsent('lock', 10_000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('gives up with false after the timeout while the key stays', async () => {
    const s = store();
    await s.set('lock', 'x', 60);
    const started = Date.now();
    expect(await s.waitUntilAbsent('lock', 300)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('announces a delete only once Redis has removed the key, however slow the reply', async () => {
    const p = prefix();
    const connection = server.client();
    // The delete's reply is slow to come back, as from a busy node of a cluster: the
    // announcement travels on its own and must not overtake it.
    const slowDelete = new Proxy(connection, {
      get(target, property, receiver) {
        if (property === 'del') {
          return (key: string) =>
            new Promise((resolve) => setTimeout(resolve, 200)).then(() => target.del(key));
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value.bind(target) as unknown) : value;
      },
    });
    const holder = createRedisStore(slowDelete, { prefix: p });
    const waiter = createRedisStore(server.client(), { prefix: p });
    stores.push(holder, waiter);
    await holder.set('lock', 'x', 30);
    const waited = waiter.waitUntilAbsent('lock', 10_000).then(async (absent) => ({
      absent,
      exists: await redis.exists(`${p}lock`),
    }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await holder.delete('lock');
    expect(await waited).toEqual({ absent: true, exists: 0 });
  });

  it('looks again on its own, so a lost announcement costs a second, not the whole wait', async () => {
    const p = prefix();
    const waiter = createRedisStore(server.client(), { prefix: p });
    stores.push(waiter);
    await redis.set(`${p}lock`, 'x', 'EX', 60);
    const waited = waiter.waitUntilAbsent('lock', 4_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Removed behind the store's back: nobody announces it.
    const started = Date.now();
    await redis.del(`${p}lock`);
    expect(await waited).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reads the key again after an announcement: a key taken again meanwhile is still waited for', async () => {
    const p = prefix();
    const waiter = createRedisStore(server.client(), { prefix: p });
    stores.push(waiter);
    await redis.set(`${p}lock`, 'first', 'EX', 60);
    const waited = waiter.waitUntilAbsent('lock', 600);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // An announcement that is stale by the time it arrives: the key is there.
    await redis.publish(`${p}deleted`, `${p}lock`);
    expect(await waited).toBe(false);
  });

  it('sleeps through a wait on a key that lives 30 days, past the longest setTimeout', async () => {
    const p = prefix();
    const s = createRedisStore(server.client(), { prefix: p });
    stores.push(s);
    const days = 24 * 60 * 60;
    await redis.set(`${p}lock`, 'x', 'EX', 30 * days);
    const pttlBefore = await commandCalls('pttl');
    const waitedLong = s.waitUntilAbsent('lock', 40 * days * 1000);
    const waitedLonger = s.waitUntilAbsent('lock', 31 * days * 1000);
    const after = await Promise.race([
      Promise.all([waitedLong, waitedLonger]),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 300)),
    ]);
    expect(after).toBe('still waiting');
    // One look each when the wait began, nothing since; the recheck comes after a second.
    expect((await commandCalls('pttl')) - pttlBefore).toBe(2);
    await s.delete('lock');
    expect(await Promise.all([waitedLong, waitedLonger])).toEqual([true, true]);
  });

  it('releases its waiters with false when closed', async () => {
    const s = createRedisStore(redis, { prefix: prefix() });
    await s.set('lock', 'x', 60);
    const waited = s.waitUntilAbsent('lock', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await s.close();
    expect(await waited).toBe(false);
  });
});

describe('createRedisStore as a ReplayStore', () => {
  it('records a key once with SET NX EX and refuses it again', async () => {
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p });
    expect(await s.checkAndSet('jkt.jti-1', 60)).toBe(true);
    expect(await s.checkAndSet('jkt.jti-1', 60)).toBe(false);
    expect(await s.checkAndSet('jkt.jti-2', 60)).toBe(true);
    const ttl = await redis.ttl(`${p}dpop-jti:jkt.jti-1`);
    expect(ttl).toBeGreaterThan(55);
  });

  it('shares what it recorded with every store on the same Redis and prefix', async () => {
    const p = prefix();
    const one = createRedisStore(server.client(), { prefix: p });
    const two = createRedisStore(server.client(), { prefix: p });
    expect(await one.checkAndSet('proof', 30)).toBe(true);
    expect(await two.checkAndSet('proof', 30)).toBe(false);
  });

  it('rejects when Redis refuses the write, so the verifier refuses the proof', async () => {
    await withoutMemory(async () => {
      const error = await store()
        .checkAndSet('jkt.jti', 60)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisStoreError);
      expect(error).toMatchObject({ operation: 'checkAndSet', code: 'OOM' });
      expect((error as Error).message).toMatch(/checkAndSet failed on Redis \(OOM\)/);
    });
  });
});

describe('createRedisStore encryption at rest', () => {
  it('stores AES-GCM ciphertext, not the token, and reads the token back', async () => {
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p, encryptionKey: key32() });
    await s.set('token:a', token, 60);
    const raw = await redis.get(`${p}token:a`);
    expect(raw).not.toBeNull();
    expect(raw).not.toContain(token);
    expect(raw).not.toContain('eyJ');
    expect(raw).toMatch(/^s2s1\.[\w-]{16}\.[\w-]+$/);
    expect(await s.get('token:a')).toBe(token);
  });

  it('uses a new IV for every value: the same token twice is two different ciphertexts', async () => {
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p, encryptionKey: key32() });
    await s.set('a', token, 60);
    await s.set('b', token, 60);
    const [a, b] = await Promise.all([redis.get(`${p}a`), redis.get(`${p}b`)]);
    expect(a!.split('.')[1]).not.toBe(b!.split('.')[1]);
    expect(a!.split('.')[2]).not.toBe(b!.split('.')[2]);
  });

  it('stores setIfAbsent values (lock owner tokens) as given, so the server can compare them', async () => {
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p, encryptionKey: key32() });
    expect(await s.setIfAbsent('lock', 'owner-3f9a', 60)).toBe(true);
    expect(await redis.get(`${p}lock`)).toBe('owner-3f9a');
    expect(await s.compareAndDelete('lock', 'owner-3f9a')).toBe(true);
    // What `set` writes is sealed all the same, and only sealed values read back.
    await s.set('token', token, 60);
    expect(await redis.get(`${p}token`)).toMatch(/^s2s1\./);
    await s.setIfAbsent('plain', token, 60);
    expect(await s.get('plain')).toBeUndefined();
  });

  it('takes an AES-GCM CryptoKey as well as 32 bytes', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p, encryptionKey: key });
    await s.set('a', token, 60);
    expect(await redis.get(`${p}a`)).not.toContain(token);
    expect(await s.get('a')).toBe(token);
  });

  it('treats a value moved to another key as a miss: the key name is bound into the ciphertext', async () => {
    const p = prefix();
    const errors: Error[] = [];
    const s = createRedisStore(redis, {
      prefix: p,
      encryptionKey: key32(),
      onError: (e) => errors.push(e),
    });
    await s.set('token:victim', token, 60);
    await redis.set(`${p}token:other`, (await redis.get(`${p}token:victim`))!, 'EX', 60);
    expect(await s.get('token:other')).toBeUndefined();
    expect(await s.get('token:victim')).toBe(token);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('does not decrypt');
    expect(errors[0]!.message).not.toContain(token);
  });

  it('treats a value sealed with another key as a miss, not a crash', async () => {
    const p = prefix();
    const writer = createRedisStore(redis, { prefix: p, encryptionKey: key32() });
    const reader = createRedisStore(redis, { prefix: p, encryptionKey: key32() });
    await writer.set('a', token, 60);
    expect(await reader.get('a')).toBeUndefined();
  });

  it('treats plaintext, tampered and malformed values as misses when it has a key', async () => {
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p, encryptionKey: key32() });
    await s.set('sealed', token, 60);
    const sealed = (await redis.get(`${p}sealed`))!;
    const last = sealed.at(-1) === 'A' ? 'B' : 'A';
    const garbage = {
      plaintext: token,
      tampered: `${sealed.slice(0, -1)}${last}`,
      'bad iv': `s2s1.AAAA.${sealed.split('.')[2]}`,
      'not base64url': 's2s1.!!!!.????',
      'too many parts': `${sealed}.x`,
      empty: '',
    };
    for (const [name, value] of Object.entries(garbage)) {
      await redis.set(`${p}${name}`, value, 'EX', 60);
      expect(await s.get(name), name).toBeUndefined();
    }
  });

  it('stores values in the clear without a key, and replay records never hold a token', async () => {
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p });
    await s.set('a', token, 60);
    expect(await redis.get(`${p}a`)).toBe(token);
    const sealed = createRedisStore(redis, { prefix: p, encryptionKey: key32() });
    await sealed.checkAndSet('jkt.jti', 60);
    expect(await redis.get(`${p}dpop-jti:jkt.jti`)).toBe('1');
  });
});

/** Runs `call` while Redis refuses every write (maxmemory 1, no eviction). */
async function withoutMemory(call: () => Promise<void>): Promise<void> {
  const admin = server.client();
  const [, maxmemory] = (await admin.config('GET', 'maxmemory')) as [string, string];
  const [, policy] = (await admin.config('GET', 'maxmemory-policy')) as [string, string];
  await admin.config('SET', 'maxmemory-policy', 'noeviction');
  await admin.config('SET', 'maxmemory', '1');
  try {
    await call();
  } finally {
    await admin.config('SET', 'maxmemory', maxmemory);
    await admin.config('SET', 'maxmemory-policy', policy);
  }
}

async function commandCalls(command: string): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

describe('createRedisStore keeping secrets', () => {
  it('rejects a refused write with a RedisStoreError that holds neither the token nor the command', async () => {
    await withoutMemory(async () => {
      for (const s of [store(), store({ encryptionKey: key32() })]) {
        const error = await s.set('token:a', token, 60).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RedisStoreError);
        expect(error).toBeInstanceOf(AuthError);
        expect(error).toMatchObject({ name: 'RedisStoreError', operation: 'set', code: 'OOM' });
        const shown = inspect(error, { depth: 10, showHidden: true });
        expect(shown).toContain('OOM');
        expect(shown).not.toContain(token);
        expect(shown).not.toContain('s2s1.');
        expect(shown).not.toMatch(/args|command:/);
        expect(JSON.stringify(error)).not.toContain(token);
      }
      const lock = await store()
        .setIfAbsent('lock', 'owner-7c1d', 60)
        .catch((e: unknown) => e);
      expect(lock).toMatchObject({ operation: 'setIfAbsent', code: 'OOM' });
      expect(inspect(lock, { depth: 10, showHidden: true })).not.toContain('owner-7c1d');
    });
  });

  it('says unavailable, not a Redis error code, when Redis does not answer', async () => {
    const nobody = new Redis({
      host: '127.0.0.1',
      port: await freePort(),
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    nobody.on('error', () => undefined);
    try {
      const error = await createRedisStore(nobody)
        .set('token:a', token, 60)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisStoreError);
      expect(error).toMatchObject({ operation: 'set', code: 'unavailable' });
      expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(token);
    } finally {
      nobody.disconnect();
    }
  });

  it('shows no key material when inspected, in any encoding', () => {
    const key = key32();
    const s = createRedisStore(redis, { prefix: prefix(), encryptionKey: key });
    const shown = inspect(s, { depth: Infinity, showHidden: true, getters: true });
    const bytes = Buffer.from(key);
    for (const encoding of ['hex', 'base64', 'base64url'] as const)
      expect(shown).not.toContain(bytes.toString(encoding));
    expect(shown).not.toContain([...key].join(', '));
    expect(shown).not.toMatch(/Uint8Array|CryptoKey|ArrayBuffer/);
  });
});

describe('createRedisStore options', () => {
  it('refuses a bad client or options with a TypeError', () => {
    // @ts-expect-error not a client
    expect(() => createRedisStore(undefined)).toThrow(TypeError);
    // @ts-expect-error missing commands
    expect(() => createRedisStore({ get: () => undefined })).toThrow(TypeError);
    expect(() => createRedisStore(redis, { encryptionKey: new Uint8Array(16) })).toThrow(
      /32 bytes/,
    );
    // @ts-expect-error a string is not a key
    expect(() => createRedisStore(redis, { encryptionKey: 'secret' })).toThrow(TypeError);
    // @ts-expect-error not a string
    expect(() => createRedisStore(redis, { prefix: 5 })).toThrow(TypeError);
  });

  it('refuses a CryptoKey that is not AES-GCM or cannot decrypt', async () => {
    const hmac = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    expect(() => createRedisStore(redis, { encryptionKey: hmac })).toThrow(TypeError);
    const encryptOnly = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
    ]);
    expect(() => createRedisStore(redis, { encryptionKey: encryptOnly })).toThrow(/decrypt/);
  });

  it('defaults the prefix to s2s-auth:', async () => {
    const s = createRedisStore(redis);
    await s.set('default-prefix', 'v', 5);
    expect(await redis.get('s2s-auth:default-prefix')).toBe('v');
    await s.delete('default-prefix');
  });

  it('copies a Uint8Array key, so wiping the caller buffer later changes nothing', async () => {
    const bytes = key32();
    const p = prefix();
    const s = createRedisStore(redis, { prefix: p, encryptionKey: bytes });
    bytes.fill(0);
    await s.set('a', token, 60);
    const zero = createRedisStore(redis, { prefix: p, encryptionKey: new Uint8Array(32) });
    expect(await zero.get('a')).toBeUndefined();
    expect(await s.get('a')).toBe(token);
  });

  it('loads nothing from ioredis or node: itself, in the built entry point or its chunks', async () => {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const dist = join(import.meta.dirname, '..', '..', '..', 'dist');
    const seen = new Set<string>();
    const pending = ['redis.js', 'redis.cjs'];
    while (pending.length > 0 && seen.size < 100) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const code = await readFile(join(dist, file), 'utf8');
      expect(code, file).not.toMatch(/["']ioredis["']|["']node:/);
      for (const [, chunk] of code.matchAll(/["']\.\/([\w.-]+\.c?js)["']/g)) pending.push(chunk!);
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});
