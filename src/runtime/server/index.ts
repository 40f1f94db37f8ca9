export { createResourceServer } from './resource-server.js';
export type { ResourceServer, VerifyOptions } from './resource-server.js';
export type {
  ResourceServerOptions,
  ResourceServerDpopOptions,
} from './resource-server-options.js';
export type { IssuerTemplate } from './issuer-policy.js';
export type { ClaimValue, ProfileName } from '../profiles/types.js';
export { RFC9068_REQUIRED_CLAIMS } from './token-policy.js';
export type { AccessTokenClaims } from './jwt-verify.js';
export type { RequestLike, HeadersLike } from './request.js';
export { createMemoryReplayStore } from './replay-store.js';
export type { ReplayStore, MemoryReplayStoreOptions } from './replay-store.js';
export type { DpopNonceProvider } from './dpop-nonce.js';
export type { AsymmetricAlgorithm } from '../crypto/algorithms.js';
export type { ResourceServerEvent } from './resource-server-events.js';
export type { JwksFetchReason } from './jwks-cache.js';
export type { JwksSkipReason, JwksSkipCounts } from './key-set-index.js';
export { MAX_KEY_SET_SIZE } from './key-set-index.js';
export type { ResourceServerIntrospectionOptions } from './introspection-options.js';
export { certificateThumbprint } from './certificate-binding.js';
export type { ClientCertificate } from './certificate-binding.js';
