/**
 * The calling side: mint, cache and use client-credentials access tokens.
 *
 * @packageDocumentation
 */
export { createAuthClient } from './runtime/client/auth-client.js';
export type {
  AccessToken,
  AuthClient,
  AuthClientOptions,
  ClientAuthMethod,
  DpopKeyPair,
  DpopProofOptions,
  GetTokenOptions,
} from './runtime/client/auth-client.js';
export * from './runtime/errors.js';
export type { Clock, FetchLike } from './runtime/shared/options.js';
