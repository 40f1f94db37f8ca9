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
