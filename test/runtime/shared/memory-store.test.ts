/**
 * createMemoryStore: the in-process TokenStore and ReplayStore, bounded in entries and time.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createMemoryStore, type TokenStore } from '../../../src/client.js';
import { createResourceServer, type ReplayStore } from '../../../src/server.js';
import { manualClock } from '../../support/clock.js';

describe('createMemoryStore', () => {
  it('is a TokenStore and a ReplayStore, exported from both sides', async () => {
    const store = createMemoryStore();
    expectTypeOf(store).toExtend<TokenStore>();
    expectTypeOf(store).toExtend<ReplayStore>();
    const server = await import('../../../src/server.js');
    expect(server.createMemoryStore).toBe(createMemoryStore);
    expect(() =>
      createResourceServer({
        issuer: 'https://idp.example.test',
        audience: 'https://api.example.test',
        replayStore: store,
      }),
    ).not.toThrow();
  });

  it('gets what it set until the time to live is over', () => {
    const clock = manualClock();
    const store = createMemoryStore({ now: clock.now });
    store.set('a', 'one', 60);
    expect(store.get('a')).toBe('one');
    clock.advance(59);
    expect(store.get('a')).toBe('one');
    clock.advance(1);
    expect(store.get('a')).toBeUndefined();
  });

  it('replaces a value and its time to live on set', () => {
    const clock = manualClock();
    const store = createMemoryStore({ now: clock.now });
    store.set('a', 'one', 10);
    store.set('a', 'two', 100);
    clock.advance(50);
    expect(store.get('a')).toBe('two');
  });

  it('sets if absent only while nothing lives under the key', () => {
    const clock = manualClock();
    const store = createMemoryStore({ now: clock.now });
    expect(store.setIfAbsent('lock', 'first', 5)).toBe(true);
    expect(store.setIfAbsent('lock', 'second', 5)).toBe(false);
    expect(store.get('lock')).toBe('first');
    clock.advance(5);
    expect(store.setIfAbsent('lock', 'third', 5)).toBe(true);
    expect(store.get('lock')).toBe('third');
  });

  it('deletes a key, and deleting a missing key is fine', () => {
    const store = createMemoryStore();
    store.set('a', 'v', 60);
    store.delete('a');
    store.delete('a');
    expect(store.get('a')).toBeUndefined();
  });

  it('checks and sets replay keys like the default replay store', () => {
    const clock = manualClock();
    const store = createMemoryStore({ now: clock.now });
    expect(store.checkAndSet('jkt.jti', 60)).toBe(true);
    expect(store.checkAndSet('jkt.jti', 60)).toBe(false);
    clock.advance(60);
    expect(store.checkAndSet('jkt.jti', 60)).toBe(true);
  });

  it('holds no more than maxEntries, forgetting the oldest first', () => {
    const store = createMemoryStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c', 'd']) store.set(key, key, 60);
    expect(store.size).toBe(3);
    expect(store.get('a')).toBeUndefined();
    expect(store.get('d')).toBe('d');
  });

  it('drops expired keys as new ones arrive', () => {
    const clock = manualClock();
    const store = createMemoryStore({ now: clock.now, maxEntries: 10 });
    store.set('short', 'v', 1);
    store.set('long', 'v', 600);
    clock.advance(2);
    store.set('new', 'v', 600);
    expect(store.size).toBe(2);
    expect(store.get('long')).toBe('v');
  });

  it('refuses bad options and times to live with a TypeError', () => {
    expect(() => createMemoryStore({ maxEntries: 0 })).toThrow(TypeError);
    expect(() => createMemoryStore({ maxEntries: 1.5 })).toThrow(TypeError);
    // @ts-expect-error not a clock
    expect(() => createMemoryStore({ now: 5 })).toThrow(TypeError);
    const store = createMemoryStore();
    expect(() => store.set('a', 'v', 0)).toThrow(TypeError);
    expect(() => store.set('a', 'v', Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});

describe('createMemoryStore waiting for a key to go', () => {
  it('answers at once for a key that is not there', async () => {
    expect(await createMemoryStore().waitUntilAbsent('nothing', 10_000)).toBe(true);
  });

  it('wakes a waiter when the key is deleted', async () => {
    const store = createMemoryStore();
    store.setIfAbsent('lock', 'me', 60);
    const waited = store.waitUntilAbsent('lock', 10_000);
    setTimeout(() => store.delete('lock'), 20);
    expect(await waited).toBe(true);
  });

  it('wakes a waiter when the key expires', async () => {
    const store = createMemoryStore();
    store.set('lock', 'me', 1);
    const started = Date.now();
    expect(await store.waitUntilAbsent('lock', 10_000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('wakes a waiter when the key is pushed out by newer ones', async () => {
    const store = createMemoryStore({ maxEntries: 1 });
    store.set('lock', 'me', 60);
    const waited = store.waitUntilAbsent('lock', 10_000);
    store.set('other', 'v', 60);
    expect(await waited).toBe(true);
  });

  it('gives up with false after the timeout', async () => {
    const store = createMemoryStore();
    store.set('lock', 'me', 60);
    expect(await store.waitUntilAbsent('lock', 30)).toBe(false);
  });
});

describe('createMemoryStore releasing a lock', () => {
  it('compare-and-deletes: removes a key only while it holds the value given', () => {
    const store = createMemoryStore();
    store.setIfAbsent('lock', 'owner-a', 60);
    expect(store.compareAndDelete('lock', 'owner-b')).toBe(false);
    expect(store.get('lock')).toBe('owner-a');
    expect(store.compareAndDelete('lock', 'owner-a')).toBe(true);
    expect(store.get('lock')).toBeUndefined();
    expect(store.compareAndDelete('lock', 'owner-a')).toBe(false);
  });

  it('leaves the lock another owner took after the first one ran out', () => {
    const clock = manualClock();
    const store = createMemoryStore({ now: clock.now });
    store.setIfAbsent('lock', 'slow-owner', 1);
    clock.advance(1);
    expect(store.setIfAbsent('lock', 'next-owner', 30)).toBe(true);
    expect(store.compareAndDelete('lock', 'slow-owner')).toBe(false);
    expect(store.get('lock')).toBe('next-owner');
  });

  it('wakes waiters when it deletes, and only then', async () => {
    const store = createMemoryStore();
    store.setIfAbsent('lock', 'owner', 60);
    const waited = store.waitUntilAbsent('lock', 10_000);
    store.compareAndDelete('lock', 'someone-else');
    const early = await Promise.race([
      waited,
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 50)),
    ]);
    expect(early).toBe('still waiting');
    store.compareAndDelete('lock', 'owner');
    expect(await waited).toBe(true);
  });
});

describe('createMemoryStore timers', () => {
  const days = 24 * 60 * 60;

  it('sleeps through a wait on an entry that lives 30 days, past the longest setTimeout', async () => {
    let clockReads = 0;
    const store = createMemoryStore({ now: () => (clockReads++, new Date()) });
    store.set('lock', 'holder', 30 * days);
    const waited = store.waitUntilAbsent('lock', 40 * days * 1000);
    const readsAtStart = clockReads;
    const after300ms = await Promise.race([
      waited,
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 300)),
    ]);
    // A 30-day delay handed to setTimeout as it is fires after 1 ms: a waiter that woke, looked
    // and answered (or looked again) would have read the clock.
    expect(after300ms).toBe('still waiting');
    expect(clockReads - readsAtStart).toBe(0);
    store.delete('lock');
    expect(await waited).toBe(true);
  });

  it('ends a 30-day wait on time, not at once, when the timeout is the nearer end', async () => {
    const store = createMemoryStore();
    store.set('lock', 'holder', 60 * days);
    const waited = store.waitUntilAbsent('lock', 30 * days * 1000);
    const after200ms = await Promise.race([
      waited,
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 200)),
    ]);
    expect(after200ms).toBe('still waiting');
    store.delete('lock');
    expect(await waited).toBe(true);
  });
});

describe('the default replay store', () => {
  it('is the same bounded map: a time to live that is not a positive number is refused, not a key forgotten at once', async () => {
    const { createMemoryReplayStore } = await import('../../../src/server.js');
    const store = createMemoryReplayStore();
    expect(() => store.checkAndSet('jkt.jti', Number.NaN)).toThrow(
      /createMemoryReplayStore: `ttlSeconds` must be a positive number/,
    );
    expect(await store.checkAndSet('jkt.jti', 60)).toBe(true);
    expect(await store.checkAndSet('jkt.jti', 60)).toBe(false);
  });
});
