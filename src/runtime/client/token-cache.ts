import { setBounded } from '../shared/bounded-map.js';
import { createSingleFlight } from '../shared/single-flight.js';

/** One cached token and the moment (epoch ms, injected clock) it stops being served. */
export interface CacheEntry<T> {
  value: T;
  refreshAtMs: number;
}

/**
 * The in-memory token cache: fresh entries by key, one request in flight per key (single
 * flight), failures never stored. Bounded: past `maxEntries` the least recently stored
 * entry goes.
 */
export class TokenCache<T> {
  readonly #entries = new Map<string, CacheEntry<T>>();
  readonly #inFlight = createSingleFlight<string, T>();
  readonly #maxEntries: number;
  /** Bumped by clear(): a request that was in flight then must not refill the cache. */
  #generation = 0;

  constructor(maxEntries = 1000) {
    this.#maxEntries = maxEntries;
  }

  /** The cached value if it is still fresh at `nowMs`. */
  fresh(key: string, nowMs: number): T | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && nowMs < entry.refreshAtMs ? entry.value : undefined;
  }

  /** The entry for `key`, fresh or not (for serving a still-valid token when a refresh fails). */
  peek(key: string): CacheEntry<T> | undefined {
    return this.#entries.get(key);
  }

  /**
   * Joins the request in flight for `key`, or starts one with `load`. A successful result
   * replaces the slot; a failure leaves the cache as it was and reaches every waiter.
   */
  load(key: string, load: () => Promise<CacheEntry<T>>): Promise<T> {
    const generation = this.#generation;
    return this.#inFlight.run(key, async () => {
      const entry = await load();
      if (generation === this.#generation) setBounded(this.#entries, key, entry, this.#maxEntries);
      return entry.value;
    });
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
    this.#inFlight.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
