import { applyAliases } from '../shared/aliases.js';
import { rejectUnknownOptions, type FetchLike } from '../shared/options.js';
import { createAuthClient } from './auth-client.js';
import { AUTH_CLIENT_OPTION_KEYS, type AuthClientOptions } from './client-options.js';
import type { AuthClient } from './types.js';

/**
 * {@link createAuthClient}'s options under the names of the products s2s-auth grew from:
 * `defaultScope` for `scope` and `fetchImpl` for `fetch`. Either spelling works; giving both is
 * a `TypeError`.
 */
export type M2MClientOptions = AuthClientOptions & {
  /** Another name for `scope`: the default scopes. */
  defaultScope?: AuthClientOptions['scope'];
  /** Another name for `fetch`. */
  fetchImpl?: FetchLike | undefined;
};

/** The option names {@link createM2MClient} also takes, and the options they stand for. */
export const AUTH_CLIENT_ALIASES = { defaultScope: 'scope', fetchImpl: 'fetch' } as const;

const M2M_CLIENT_OPTION_KEYS: readonly string[] = Object.freeze([
  ...AUTH_CLIENT_OPTION_KEYS,
  ...Object.keys(AUTH_CLIENT_ALIASES),
]);

/**
 * {@link createAuthClient} under the name a team migrating from an `M2MClient` knows, with
 * its option names. The client is the same: `getAccessToken({ forceRefresh: true })` skips the
 * cache, `clearCache()` empties it.
 *
 * @example
 * ```ts
 * import { createM2MClient } from 's2s-auth/client';
 *
 * const client = createM2MClient({
 *   issuer: 'https://idp.example.com',
 *   clientId: 'billing-service',
 *   clientSecret: process.env.BILLING_CLIENT_SECRET,
 *   defaultScope: 'orders:read',
 * });
 * const token = await client.getAccessToken({ forceRefresh: true });
 * ```
 */
export function createM2MClient(options: M2MClientOptions): AuthClient {
  rejectUnknownOptions(options, M2M_CLIENT_OPTION_KEYS, 'createM2MClient');
  return createAuthClient(applyAliases(options, AUTH_CLIENT_ALIASES, 'createM2MClient'));
}
