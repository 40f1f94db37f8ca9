/**
 * The SDK's one list of asymmetric algorithms lives in `src/runtime/crypto/algorithms.ts`; the
 * resource server's check of its `algorithms` options is `algorithm-option.ts`. This re-export
 * remains only until `jwt-verify.ts` imports `AsymmetricAlgorithm` from crypto directly.
 */
export type { AsymmetricAlgorithm } from '../crypto/algorithms.js';
