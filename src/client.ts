/**
 * The calling side: mint, cache and use client-credentials access tokens.
 *
 * @module s2s-auth/client
 */
export { createAuthClient } from './runtime/client/auth-client.js';
export type {
  AccessToken,
  AuthClient,
  AuthClientEvent,
  AuthClientOptions,
  AuthorisedFetchInit,
  CircuitBreakerOptions,
  ClientAssertionAudience,
  ClientAuthMethod,
  ClientSecretBasicEncoding,
  DpopKeyPair,
  DpopProofOptions,
  ExchangeSlot,
  GetTokenOptions,
  ListInput,
  ProfileName,
  ResourceAs,
  RetryOptions,
  StoreOperation,
  TokenExchangeEvent,
  TokenParameters,
  TokenSlot,
} from './runtime/client/types.js';
export { createM2MClient } from './runtime/client/m2m-client.js';
export type { M2MClientOptions } from './runtime/client/m2m-client.js';
export { createDpopKey } from './runtime/dpop/dpop-key.js';
export type { DpopKey, DpopKeyOptions } from './runtime/dpop/dpop-key.js';
export { createMemoryStore } from './runtime/shared/store.js';
export type { MemoryStore, MemoryStoreOptions, TokenStore } from './runtime/shared/store.js';
export type { JsonWebKeyInput, KeyInput } from './runtime/shared/keys.js';
export * from './runtime/errors.js';
export * from './runtime/token-error.js';
export type { Clock, FetchLike } from './runtime/shared/options.js';
export { assertionFromFile, assertionFromUrl } from './runtime/client/assertion-sources.js';
export type {
  AssertionFromUrlOptions,
  ClientAssertionFunction,
} from './runtime/client/assertion-sources.js';
export type { ClientAssertionSource } from './runtime/client/client-assertion.js';
export type { ExchangeTokenOptions } from './runtime/client/token-exchange-request.js';
export type { ExchangedToken } from './runtime/client/token-exchange-response.js';
export { isTokenTypeUri, TokenTypes } from './runtime/client/token-types.js';
export type { TokenType } from './runtime/client/token-types.js';
export type { PemInput, TlsClientOptions } from './runtime/transport/tls-options.js';
