/**
 * Errors raised on the client's behalf (by `Headers`, by the `fetch` it was given, by a proxy
 * library under that fetch) may quote the request they failed on: its `Authorization` value,
 * its DPoP proof. Before such an error reaches the caller, every credential in it is replaced,
 * in its message, stack, string fields and cause chain, while the error keeps its class, name,
 * `code` and the rest of its story.
 */

const maxDepth = 6;
const placeholder = '[redacted]';

/** The shapes a credential takes inside error text: as is, percent-encoded, JSON-escaped. */
function shapesOf(secrets: readonly (string | undefined)[]): string[] {
  const shapes = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < 8) continue;
    shapes.add(secret);
    shapes.add(encodeURIComponent(secret));
    shapes.add(JSON.stringify(secret).slice(1, -1));
  }
  return [...shapes].sort((a, b) => b.length - a.length);
}

function scrubText(text: string, shapes: readonly string[]): string {
  let out = text;
  for (const shape of shapes) if (out.includes(shape)) out = out.split(shape).join(placeholder);
  return out;
}

/** Reads a property without letting a throwing getter escape. */
function read(value: object, key: PropertyKey): unknown {
  try {
    return (value as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}

function ownKeys(value: object): string[] {
  try {
    return Object.keys(value);
  } catch {
    return [];
  }
}

function mentions(
  value: unknown,
  shapes: readonly string[],
  depth: number,
  seen: Set<object>,
): boolean {
  if (typeof value === 'string') return shapes.some((shape) => value.includes(shape));
  if (typeof value !== 'object' || value === null || depth > maxDepth || seen.has(value))
    return false;
  seen.add(value);
  if (Array.isArray(value)) return value.some((item) => mentions(item, shapes, depth + 1, seen));
  for (const key of new Set(['message', 'stack', 'name', 'cause', 'errors', ...ownKeys(value)])) {
    if (mentions(read(value, key), shapes, depth + 1, seen)) return true;
  }
  return false;
}

function copyWithout(value: unknown, shapes: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return scrubText(value, shapes);
  if (typeof value !== 'object' || value === null || !mentions(value, shapes, 0, new Set()))
    return value;
  if (Array.isArray(value)) return value.map((item) => copyWithout(item, shapes, depth + 1));
  if (depth < maxDepth && value instanceof DOMException) {
    return new DOMException(scrubText(value.message, shapes), value.name);
  }
  if (depth >= maxDepth || !(value instanceof Error)) {
    return new Error('(withheld: it held a credential)');
  }
  const copy = new Error(scrubText(String(read(value, 'message')), shapes));
  // Same class for `instanceof` (TypeError stays TypeError), without running its constructor.
  Object.setPrototypeOf(copy, Object.getPrototypeOf(value) as object | null);
  for (const key of new Set(['name', 'stack', 'cause', 'errors', ...ownKeys(value)])) {
    const field = read(value, key);
    if (key === 'message' || field === undefined) continue;
    try {
      Object.defineProperty(copy, key, {
        value: copyWithout(field, shapes, depth + 1),
        configurable: true,
        writable: true,
        enumerable: Object.prototype.propertyIsEnumerable.call(value, key),
      });
    } catch {
      // A field the copy cannot hold: leave it out.
    }
  }
  return copy;
}

/**
 * `error` itself when no credential of `secrets` appears anywhere in it; otherwise a copy of the
 * same class with every occurrence replaced by `[redacted]`. Values shorter than 8 characters
 * are not treated as credentials.
 */
export function scrubCredentials(
  error: unknown,
  secrets: readonly (string | undefined)[],
): unknown {
  const shapes = shapesOf(secrets);
  if (shapes.length === 0 || !mentions(error, shapes, 0, new Set())) return error;
  return copyWithout(error, shapes, 0);
}
