import { describe, expect, it } from 'vitest';
import { TokenCache } from '../../../src/runtime/client/token-cache.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('TokenCache', () => {
  it('serves an entry until its refresh time, then not', async () => {
    const cache = new TokenCache<string>();
    await cache.load('k', async () => ({ value: 't1', refreshAtMs: 1000 }));
    expect(cache.fresh('k', 999)).toBe('t1');
    expect(cache.fresh('k', 1000)).toBeUndefined();
  });

  it('shares one load between concurrent callers of the same key', async () => {
    const cache = new TokenCache<string>();
    const gate = deferred<{ value: string; refreshAtMs: number }>();
    let loads = 0;
    const load = () => {
      loads++;
      return gate.promise;
    };
    const results = Promise.all([
      cache.load('k', load),
      cache.load('k', load),
      cache.load('k', load),
    ]);
    gate.resolve({ value: 't', refreshAtMs: 10 });
    expect(await results).toEqual(['t', 't', 't']);
    expect(loads).toBe(1);
  });

  it('hands a failure to every waiter and caches nothing', async () => {
    const cache = new TokenCache<string>();
    const gate = deferred<{ value: string; refreshAtMs: number }>();
    const a = cache.load('k', () => gate.promise);
    const b = cache.load('k', () => gate.promise);
    gate.reject(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await expect(b).rejects.toThrow('down');
    expect(cache.fresh('k', 0)).toBeUndefined();
    await expect(cache.load('k', async () => ({ value: 'ok', refreshAtMs: 10 }))).resolves.toBe(
      'ok',
    );
  });

  it('does not let a load that was in flight during clear() refill the cache', async () => {
    const cache = new TokenCache<string>();
    const gate = deferred<{ value: string; refreshAtMs: number }>();
    const pending = cache.load('k', () => gate.promise);
    cache.clear();
    gate.resolve({ value: 'old', refreshAtMs: 10 });
    await expect(pending).resolves.toBe('old');
    expect(cache.fresh('k', 0)).toBeUndefined();
  });

  it('evicts the oldest entry past its bound', async () => {
    const cache = new TokenCache<string>(2);
    for (const key of ['a', 'b', 'c'])
      await cache.load(key, async () => ({ value: key, refreshAtMs: 10 }));
    expect(cache.size).toBe(2);
    expect(cache.fresh('a', 0)).toBeUndefined();
    expect(cache.fresh('c', 0)).toBe('c');
  });
});
