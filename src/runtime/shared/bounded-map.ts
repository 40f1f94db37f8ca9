/**
 * Sets `key` to `value` as the newest entry of `map`, then drops the oldest entries (in
 * insertion order) past `maxEntries`: a map bounded by forgetting what was set longest ago.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, maxEntries: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= maxEntries) return;
    map.delete(oldest);
  }
}
