/** Scope or resource as the options take them: space-separated string or list. */
export type ListInput = string | readonly string[];

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const scopeToken = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Characters no URI contains (RFC 3986 §2): whitespace and controls. */
const notInUri = /[\u0000-\u0020\u007f]/;

/** A token request's scopes and resources, normalised, with the cache key they share. */
export interface TokenTarget {
  scopes: readonly string[];
  resources: readonly string[];
  key: string;
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** Scopes as a sorted, de-duplicated list: `'a b'`, `['b', 'a']` and `'b a a'` are one set. */
export function normaliseScopes(scope: ListInput | undefined, where: string): string[] {
  if (scope === undefined) return [];
  const parts =
    typeof scope === 'string'
      ? scope.split(' ')
      : Array.isArray(scope)
        ? scope.flatMap((item: unknown) => (typeof item === 'string' ? item.split(' ') : [item]))
        : [scope];
  const tokens: string[] = [];
  for (const part of parts) {
    if (part === '') continue;
    if (typeof part !== 'string' || !scopeToken.test(part)) {
      throw new TypeError(`${where}: \`scope\` must be scope tokens (RFC 6749 §3.3), as a string or string[]`);
    }
    tokens.push(part);
  }
  return sortedUnique(tokens);
}

/** Resource indicators: absolute URIs without a fragment (RFC 8707 §2), sorted and de-duplicated. */
export function normaliseResources(resource: ListInput | undefined, where: string): string[] {
  if (resource === undefined) return [];
  const list: unknown[] = typeof resource === 'string' ? [resource] : Array.isArray(resource) ? resource : [resource];
  for (const item of list) {
    let valid = false;
    // A URI has no whitespace or control characters (RFC 3986 §2); the URL parser would quietly
    // drop some, and a space would make two resource sets share one cache key.
    if (typeof item === 'string' && !notInUri.test(item)) {
      try {
        valid = new URL(item).hash === '' && !item.includes('#');
      } catch {
        valid = false;
      }
    }
    if (!valid) {
      throw new TypeError(`${where}: \`resource\` must be absolute URIs without a fragment (RFC 8707 §2)`);
    }
  }
  return sortedUnique(list as string[]);
}

function computeTarget(scope: ListInput | undefined, resource: ListInput | undefined, where: string): TokenTarget {
  const scopes = Object.freeze(normaliseScopes(scope, where));
  const resources = Object.freeze(normaliseResources(resource, where));
  return Object.freeze({ scopes, resources, key: `${scopes.join(' ')}\n${resources.join(' ')}` });
}

/**
 * Targets already worked out, by the options as given: `getToken` runs on every outbound call,
 * and the options are nearly always the same few, so a cache hit should not pay for splitting,
 * sorting and URL parsing each time. Keyed without any separator that input could forge: by
 * the scope text (a list is joined with spaces, which `normaliseScopes` splits on anyway), then
 * by the one resource (a one-item list is the same as the string, an empty list the same as
 * none). Lists of several resources are worked out each time. Only successes are kept; bounded.
 */
const memo = new Map<string, Map<string | undefined, TokenTarget>>();
let memoSize = 0;
const MAX_MEMO_SIZE = 256;

function scopeText(scope: ListInput | undefined): string | undefined {
  if (scope === undefined) return '';
  if (typeof scope === 'string') return scope;
  if (!Array.isArray(scope)) return undefined;
  for (let i = 0; i < scope.length; i++) if (typeof scope[i] !== 'string') return undefined;
  return scope.join(' ');
}

/** The one resource of `resource`, `undefined` for none, `null` when it is not that simple. */
function singleResource(resource: ListInput | undefined): string | undefined | null {
  if (resource === undefined || typeof resource === 'string') return resource;
  if (!Array.isArray(resource) || resource.length > 1) return null;
  const only: unknown = resource[0];
  return only === undefined || typeof only === 'string' ? (only as string | undefined) : null;
}

/**
 * The cache key of a scope set and resource set. Scope tokens have no spaces and URIs no
 * whitespace, so joining is unambiguous. The result is frozen and may be shared between calls.
 */
export function tokenTarget(scope: ListInput | undefined, resource: ListInput | undefined, where: string): TokenTarget {
  const text = scopeText(scope);
  const single = singleResource(resource);
  if (text === undefined || single === null) return computeTarget(scope, resource, where);
  let byResource = memo.get(text);
  const known = byResource?.get(single);
  if (known !== undefined) return known;
  const target = computeTarget(scope, resource, where);
  if (++memoSize > MAX_MEMO_SIZE) {
    memo.clear();
    memoSize = 1;
    byResource = undefined;
  }
  if (byResource === undefined) {
    byResource = new Map();
    memo.set(text, byResource);
  }
  byResource.set(single, target);
  return target;
}
