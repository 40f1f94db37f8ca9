/**
 * The receiving side: verify access tokens and DPoP proofs, introspect and revoke tokens.
 *
 * @module s2s-auth/server
 */
export * from './runtime/server/index.js';
export { requestFromNode } from './runtime/middleware/node-request.js';
export type { NodeIncomingRequest, NodeRequestOptions } from './runtime/middleware/node-request.js';
export { createMemoryStore } from './runtime/shared/store.js';
export type { MemoryStore, MemoryStoreOptions } from './runtime/shared/store.js';
export { introspectToken, revokeToken } from './runtime/introspection/introspection.js';
export type {
  IntrospectionResult,
  IntrospectTokenOptions,
  RevokeTokenOptions,
  TokenEndpointClientAuth,
} from './runtime/introspection/introspection.js';
export type { PemInput, TlsClientOptions } from './runtime/transport/tls-options.js';
export * from './runtime/errors.js';
export * from './runtime/token-error.js';
export type { Clock, FetchLike } from './runtime/shared/options.js';
