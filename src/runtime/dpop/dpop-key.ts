import { optionKeys, rejectUnknownOptions, resolveClock, type Clock } from '../shared/options.js';
import {
  createDpopSigner,
  DPOP_PROOF_OPTION_KEYS,
  validateDpopOption,
  type DpopKeyPair,
  type DpopProofOptions,
} from './proof.js';

/** Options of {@link createDpopKey}. */
export interface DpopKeyOptions {
  /** The clock for the proofs' `iat`. Default `() => new Date()`. */
  now?: Clock | undefined;
}

/** Every option of {@link DpopKeyOptions}; the compiler keeps the list complete. */
const DPOP_KEY_OPTION_KEYS = optionKeys<DpopKeyOptions>()(['now']);

/**
 * A DPoP key and the proofs of possession it signs (RFC 9449), without a token client: for a
 * service that holds a DPoP-bound token it did not get from {@link createAuthClient}, or that
 * signs proofs for a request it sends some other way.
 */
export interface DpopKey {
  /**
   * An RFC 9449 proof for one request, exactly as {@link AuthClient.buildDpopProof} makes it:
   * `typ: 'dpop+jwt'`, the public `jwk` in the header, `jti`, `iat`, `htm`, `htu` without query
   * and fragment, `ath` when `accessToken` is given and `nonce` when a server asked for one.
   */
  buildDpopProof(options: DpopProofOptions): Promise<string>;
  /** The RFC 7638 SHA-256 thumbprint of the public key: the `cnf.jkt` of a token bound to it. */
  thumbprint(): Promise<string>;
}

/**
 * Makes a DPoP key for signing proofs by hand. `true` (the default) generates a
 * non-extractable Ed25519 key on first use that lives as long as the returned object; a key
 * pair (`{ privateKey, publicKey }`, WebCrypto keys or JWKs, with an optional `alg`) signs with
 * that key, as the `dpop` option of {@link createAuthClient} does. Throws a `TypeError` for a
 * key that is not an asymmetric signing key pair; a key that does not fit its `alg` is refused
 * on the first proof.
 *
 * @example
 * ```ts
 * import { createDpopKey } from 's2s-auth/client';
 *
 * const dpop = createDpopKey({ privateKey, publicKey });
 * const proof = await dpop.buildDpopProof({
 *   htm: 'GET',
 *   htu: 'https://orders.example.com/orders/42',
 *   accessToken,
 * });
 * await fetch('https://orders.example.com/orders/42', {
 *   headers: { authorization: `DPoP ${accessToken}`, dpop: proof },
 * });
 * ```
 */
export function createDpopKey(
  key: true | DpopKeyPair = true,
  options: DpopKeyOptions = {},
): DpopKey {
  rejectUnknownOptions(options, DPOP_KEY_OPTION_KEYS, 'createDpopKey');
  const source = validateDpopOption(key, 'createDpopKey', 'key');
  if (source === undefined) {
    throw new TypeError('createDpopKey: `key` must be true or { privateKey, publicKey }');
  }
  const signer = createDpopSigner(source, resolveClock(options.now, 'createDpopKey'));
  return {
    buildDpopProof: async (proofOptions) => {
      rejectUnknownOptions(proofOptions, DPOP_PROOF_OPTION_KEYS, 'buildDpopProof');
      return signer.proof(proofOptions);
    },
    thumbprint: () => signer.thumbprint(),
  };
}
