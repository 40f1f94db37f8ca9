/** Scope or resource as the options take them: space-separated string or list. */
export type ListInput = string | readonly string[];

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const scopeToken = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

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
    if (typeof item === 'string') {
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

/**
 * The cache key of a scope set and resource set. Scope tokens have no spaces and URIs no
 * newlines, so joining is unambiguous.
 */
export function tokenTarget(scope: ListInput | undefined, resource: ListInput | undefined, where: string): TokenTarget {
  const scopes = normaliseScopes(scope, where);
  const resources = normaliseResources(resource, where);
  return { scopes, resources, key: `${scopes.join(' ')}\n${resources.join(' ')}` };
}
