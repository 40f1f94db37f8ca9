import type { AsymmetricAlgorithm } from '../crypto/algorithms.js';

/**
 * What a successful verification of one token string leaves behind, so the next request with
 * the same token skips the parse and the signature. Nothing here is handed to callers: every
 * hit gets its own deep copy of the claims, so a caller that changes its claims object changes
 * nothing for the next one.
 */
export interface VerifiedToken {
  /** The token itself: an entry serves only this exact string. */
  readonly token: string;
  /** Where the payload is in `token`: it passed the parse, claim type and issuer checks. */
  readonly payloadStart: number;
  readonly payloadEnd: number;
  /** The payload, parsed from the token on the first hit; never handed out itself. */
  claims: Readonly<Record<string, unknown>> | undefined;
  readonly exp: number;
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
  readonly aud: string | readonly string[] | undefined;
  /** The header's `kid` and `alg`, to ask the key set for the same keys again. */
  readonly kid: string | undefined;
  readonly alg: AsymmetricAlgorithm;
  /**
   * The key that verified the signature. A hit counts only while the key set still offers this
   * very key: a refetched set (new `CryptoKey`s) or a rotated one sends the token through the
   * full verification again, exactly as an uncached token would go.
   */
  readonly key: CryptoKey;
  /** base64url(SHA-256(token)): the `ath` its DPoP proofs carry, once a proof needed it. */
  ath: string | undefined;
}

/**
 * FNV-1a over the last 8 characters of a token: signature, so about 44 random bits, folded to
 * 30 (a small integer to V8, so maps and sets of them allocate nothing). Read in place: a
 * lookup hashes 8 characters instead of a token of a kilobyte.
 */
export function fingerprintOf(token: string): number {
  let hash = 0x811c9dc5;
  for (let i = Math.max(0, token.length - 8); i < token.length; i++) {
    hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
  }
  return hash & 0x3fffffff;
}

/**
 * Verified tokens by their exact string. Bounded: when full, the oldest entry goes. Only
 * successes are stored, so a flood of forged tokens cannot fill it; time, audience, scope,
 * key-set and DPoP checks still run on every hit.
 *
 * Entries are found by the token's fingerprint, and a lookup then compares the whole token: a
 * token that shares the fingerprint of a cached one but differs anywhere is simply not found,
 * and two cached tokens with one fingerprint only means one of them is verified again.
 *
 * A token is stored the second time it verifies, not the first: a server that sees each token
 * once (many callers, short-lived tokens) would only pay for storing and ageing entries it never
 * reads. The first time only its fingerprint is noted, which costs no allocation.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<number, VerifiedToken>();
  /** Fingerprints of the entries in the order they were stored, as a ring. */
  readonly #order: Int32Array;
  #next = 0;
  /**
   * Fingerprints of tokens verified once, in a table indexed by the fingerprint's low bits: a
   * newer token in the same place pushes an older one out, which only means that one is stored
   * a verification later.
   */
  readonly #seen: Int32Array;

  constructor(maxEntries: number) {
    this.#order = new Int32Array(maxEntries);
    // A power of two, at least four times the entries; -1 marks an empty place (prints are ≥ 0).
    this.#seen = new Int32Array(2 ** Math.ceil(Math.log2(maxEntries * 4))).fill(-1);
  }

  get(token: string, print = fingerprintOf(token)): VerifiedToken | undefined {
    const entry = this.#entries.get(print);
    return entry?.token === token ? entry : undefined;
  }

  /**
   * Whether a token that just verified should be stored: it verified before (its fingerprint was
   * noted), or it is noted now for next time.
   */
  admit(print: number): boolean {
    const place = print & (this.#seen.length - 1);
    if (this.#seen[place] === print) return true;
    this.#seen[place] = print;
    return false;
  }

  set(entry: VerifiedToken, print = fingerprintOf(entry.token)): void {
    const entries = this.#entries;
    if (!entries.has(print)) {
      // The ring may name a fingerprint stored again since: forgetting it early is harmless.
      if (entries.size >= this.#order.length) entries.delete(this.#order[this.#next]!);
      this.#order[this.#next] = print;
      this.#next = (this.#next + 1) % this.#order.length;
    }
    entries.set(print, entry);
  }

  delete(token: string): void {
    const print = fingerprintOf(token);
    if (this.#entries.get(print)?.token === token) this.#entries.delete(print);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** Tokens remembered per resource server: more than the live tokens of most fleets of callers. */
export const VERIFIED_TOKEN_CACHE_SIZE = 1000;
