/**
 * Helpers for testing a service that verifies s2s-auth tokens, without a network: an
 * in-memory issuer that mints access tokens and DPoP proofs and serves its discovery document
 * and key set through a `fetch`.
 *
 * @module s2s-auth/testing
 */
export { createTestIssuer } from './runtime/testing/test-issuer.js';
export type {
  MintOptions,
  TestIssuer,
  TestIssuerAlgorithm,
  TestIssuerJwk,
  TestIssuerOptions,
} from './runtime/testing/test-issuer.js';
export type { PublicJwk } from './runtime/crypto/jwk.js';
export { createDpopKey } from './runtime/dpop/dpop-key.js';
export type { DpopKey, DpopKeyOptions } from './runtime/dpop/dpop-key.js';
