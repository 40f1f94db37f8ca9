/**
 * Single flight: callers asking for the same key while a load is running share that load's
 * promise instead of starting another. The promise is forgotten as soon as it settles, so a
 * failure is never remembered and the next caller starts afresh. Caching the result is the
 * caller's business.
 */
export interface SingleFlight<K, V> {
  /** Joins the load in flight for `key`, or starts one with `load`. */
  run(key: K, load: () => Promise<V>): Promise<V>;
  /** The load in flight for `key`, if any. */
  pending(key: K): Promise<V> | undefined;
  /** Forgets every load in flight; their callers still get their answers. */
  clear(): void;
  readonly size: number;
}

export function createSingleFlight<K, V>(): SingleFlight<K, V> {
  const inFlight = new Map<K, Promise<V>>();
  return {
    run(key, load) {
      const joined = inFlight.get(key);
      if (joined !== undefined) return joined;
      const forget = (): void => {
        if (inFlight.get(key) === promise) inFlight.delete(key);
      };
      const promise = load().then(
        (value) => {
          forget();
          return value;
        },
        (error: unknown) => {
          forget();
          throw error;
        },
      );
      inFlight.set(key, promise);
      return promise;
    },
    pending: (key) => inFlight.get(key),
    clear: () => inFlight.clear(),
    get size() {
      return inFlight.size;
    },
  };
}

/** A keyless single flight: `load` runs once at a time, shared by whoever calls meanwhile. */
export function singleFlight<V>(load: () => Promise<V>): () => Promise<V> {
  const flight = createSingleFlight<undefined, V>();
  return () => flight.run(undefined, load);
}
