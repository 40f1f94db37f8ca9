export { createResourceServer } from './resource-server.js';
export type { ResourceServer, VerifyOptions } from './resource-server.js';
export type { ResourceServerOptions, ResourceServerDpopOptions } from './options.js';
export type { AccessTokenClaims } from './jwt-verify.js';
export type { RequestLike, HeadersLike } from './request.js';
export { createMemoryReplayStore } from './replay-store.js';
export type { ReplayStore, MemoryReplayStoreOptions } from './replay-store.js';
export type { DpopNonceProvider } from './dpop-nonce.js';
export type { AsymmetricAlgorithm } from './algorithms.js';
