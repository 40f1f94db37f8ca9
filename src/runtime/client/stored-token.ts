import { validate, type Schema } from '../shared/validate.js';
import type { CacheEntry } from './token-cache.js';
import type { AccessToken } from './types.js';

/** A token entry as stored: the token as the client hands it out, and when to stop serving it. */
type StoredEntry = AccessToken & { v: 1; refresh_at_ms: number | null };

/** What {@link decodeStoredToken} accepts from the store; unknown members are dropped. */
const storedEntry: Schema<StoredEntry> = {
  type: 'object',
  properties: {
    v: { const: 1 },
    access_token: { type: 'string', minLength: 1 },
    token_type: { enum: ['Bearer', 'DPoP'] },
    expires_in: { type: 'number' },
    expires_at: { type: 'number' },
    scope: { type: 'string' },
    refresh_at_ms: { anyOf: [{ type: 'number' }, { type: 'null' }] },
  },
  required: ['v', 'access_token', 'token_type', 'refresh_at_ms'],
};

/**
 * The entry a stored value holds, or `undefined` for anything that is not a token entry, and for
 * a DPoP-bound token when this client has no DPoP key.
 */
export function decodeStoredToken(
  text: unknown,
  dpop: boolean,
): CacheEntry<AccessToken> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text as string);
  } catch {
    return undefined;
  }
  const result = validate(storedEntry, json);
  if (!result.ok) return undefined;
  const { v: _version, refresh_at_ms, ...token } = result.value;
  if (token.token_type === 'DPoP' && !dpop) return undefined;
  return { value: Object.freeze(token), refreshAtMs: refresh_at_ms ?? Number.POSITIVE_INFINITY };
}

/** The stored form of an entry: JSON, versioned; an unknown refresh time as `null`. */
export function encodeStoredToken({ value, refreshAtMs }: CacheEntry<AccessToken>): string {
  return JSON.stringify({
    v: 1,
    ...value,
    refresh_at_ms: Number.isFinite(refreshAtMs) ? refreshAtMs : null,
  });
}
