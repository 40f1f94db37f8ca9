import { describe, expect, it } from 'vitest';
import { createMemoryReplayStore } from '../../../src/runtime/server/replay-store.js';
import { manualClock } from '../../support/clock.js';

describe('createMemoryReplayStore', () => {
  it('accepts a key once and refuses it again while it lives', async () => {
    const clock = manualClock();
    const store = createMemoryReplayStore({ now: clock.now });
    expect(await store.checkAndSet('a', 60)).toBe(true);
    expect(await store.checkAndSet('a', 60)).toBe(false);
    clock.advance(59);
    expect(await store.checkAndSet('a', 60)).toBe(false);
  });

  it('forgets a key when its time to live is over', async () => {
    const clock = manualClock();
    const store = createMemoryReplayStore({ now: clock.now });
    await store.checkAndSet('a', 60);
    clock.advance(60);
    expect(await store.checkAndSet('a', 60)).toBe(true);
  });

  it('holds no more than maxEntries, forgetting the oldest first', async () => {
    const clock = manualClock();
    const store = createMemoryReplayStore({ now: clock.now, maxEntries: 3 });
    for (const key of ['a', 'b', 'c', 'd']) expect(await store.checkAndSet(key, 60)).toBe(true);
    expect(await store.checkAndSet('d', 60)).toBe(false);
    expect(await store.checkAndSet('c', 60)).toBe(false);
    // "a" was forgotten to make room for "d".
    expect(await store.checkAndSet('a', 60)).toBe(true);
  });

  it('drops expired keys as new ones arrive', async () => {
    const clock = manualClock();
    const store = createMemoryReplayStore({ now: clock.now, maxEntries: 2 });
    await store.checkAndSet('short', 1);
    await store.checkAndSet('long', 600);
    clock.advance(2);
    await store.checkAndSet('new', 600);
    expect(await store.checkAndSet('long', 600)).toBe(false);
  });

  it('refuses bad options with a TypeError', () => {
    expect(() => createMemoryReplayStore({ maxEntries: 0 })).toThrow(TypeError);
    expect(() => createMemoryReplayStore({ maxEntries: 1.5 })).toThrow(TypeError);
    // @ts-expect-error not a clock
    expect(() => createMemoryReplayStore({ now: 5 })).toThrow(TypeError);
  });
});
