import { describe, expect, it } from 'vitest';
import { createSingleFlight, singleFlight } from '../../../src/runtime/shared/single-flight.js';

function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

describe('createSingleFlight', () => {
  it('runs one load for concurrent callers of the same key and gives each its value', async () => {
    const flight = createSingleFlight<string, number>();
    const gate = deferred<number>();
    let loads = 0;
    const load = (): Promise<number> => {
      loads++;
      return gate.promise;
    };
    const first = flight.run('a', load);
    const second = flight.run('a', load);
    expect(flight.size).toBe(1);
    gate.resolve(7);
    await expect(Promise.all([first, second])).resolves.toEqual([7, 7]);
    expect(loads).toBe(1);
    expect(flight.size).toBe(0);
  });

  it('runs separate loads for separate keys', async () => {
    const flight = createSingleFlight<string, string>();
    const results = await Promise.all([
      flight.run('a', () => Promise.resolve('for a')),
      flight.run('b', () => Promise.resolve('for b')),
    ]);
    expect(results).toEqual(['for a', 'for b']);
  });

  it('hands a failure to every waiter and forgets it, so the next call loads again', async () => {
    const flight = createSingleFlight<string, number>();
    const gate = deferred<number>();
    const first = flight.run('a', () => gate.promise);
    const second = flight.run('a', () => Promise.resolve(0));
    gate.reject(new Error('down'));
    await expect(first).rejects.toThrow('down');
    await expect(second).rejects.toThrow('down');
    expect(flight.pending('a')).toBeUndefined();
    await expect(flight.run('a', () => Promise.resolve(2))).resolves.toBe(2);
  });

  it('starts a new load after clear(), and the old one settling leaves the new one in flight', async () => {
    const flight = createSingleFlight<string, number>();
    const old = deferred<number>();
    const fresh = deferred<number>();
    const before = flight.run('a', () => old.promise);
    flight.clear();
    const after = flight.run('a', () => fresh.promise);
    old.resolve(1);
    await expect(before).resolves.toBe(1);
    expect(flight.pending('a')).toBe(after);
    fresh.resolve(2);
    await expect(after).resolves.toBe(2);
    expect(flight.size).toBe(0);
  });
});

describe('singleFlight', () => {
  it('shares one run among callers while it is in flight, and runs again afterwards', async () => {
    let runs = 0;
    const load = singleFlight(async () => ++runs);
    await expect(Promise.all([load(), load()])).resolves.toEqual([1, 1]);
    await expect(load()).resolves.toBe(2);
  });
});
