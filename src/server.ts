/**
 * The receiving side: verify access tokens and DPoP proofs, introspect and revoke tokens.
 *
 * @packageDocumentation
 */
export * from './runtime/server/index.js';
export { introspectToken, revokeToken } from './runtime/introspection/introspection.js';
export type {
  IntrospectionResult,
  IntrospectTokenOptions,
  RevokeTokenOptions,
} from './runtime/introspection/introspection.js';
export * from './runtime/errors.js';
export type { Clock, FetchLike } from './runtime/shared/options.js';
