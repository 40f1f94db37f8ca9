/**
 * A fetched key set, indexed for lookups: each member checked on its own (RFC 7517 §5: one the
 * server cannot use is skipped and counted, not fatal), the usable ones by `kid`, and the
 * choice of the keys that may have signed a token.
 */
import { ProtocolError } from '../errors.js';
import {
  isAsymmetricAlgorithm,
  keyFitsAlgorithm,
  sameAlgorithm,
  type AsymmetricAlgorithm,
} from '../crypto/algorithms.js';
import { hasPrivateMembers, publicJwk, type PublicJwk } from './signature.js';
import { shown } from './token-policy.js';

/**
 * Why a member of a key set was skipped. RFC 7517 §5 has a verifier ignore the members it
 * cannot use rather than refuse the whole set.
 *
 * - `not_object`: the member is not a JSON object.
 * - `kty`: no `kty`, or one other than `RSA`, `EC` and `OKP` (a symmetric `oct` key included).
 * - `crv`: an EC or OKP curve no supported algorithm uses (P-256, P-384, P-521, Ed25519 are).
 * - `alg`: an `alg` that is not a supported asymmetric JWS algorithm, or not one for this key.
 * - `use`: a `use` other than `sig`.
 * - `key_ops`: a `key_ops` without `verify`.
 * - `kid`: a `kid` that is not a non-empty string.
 * - `private`: private or symmetric key members (`d`, `p`, `k`, …): never imported.
 * - `members`: the public members of the key type (`n`, `e`, `x`, `y`) missing or not strings.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 * @example
 * ```ts
 * const skipped: JwksSkipCounts = { kty: 1, use: 2 }; // as the jwks_fetched event reports them
 * ```
 */
export type JwksSkipReason =
  'not_object' | 'kty' | 'crv' | 'alg' | 'use' | 'key_ops' | 'kid' | 'private' | 'members';

/** How many members of a key set were skipped, for each reason. */
export type JwksSkipCounts = Partial<Record<JwksSkipReason, number>>;

/** A key of the issuer's set, imported for one algorithm. */
export interface VerificationKey {
  readonly key: CryptoKey;
  /** The member's `kid`, when it has one. */
  readonly kid: string | undefined;
  /**
   * The member's own `issuer`, as published (`undefined` when absent): Entra's multi-tenant key
   * set ties each key to the issuers it signs for this way.
   */
  readonly issuer: unknown;
}

export interface KeyEntry {
  readonly kid: string | undefined;
  readonly alg: string | undefined;
  readonly kty: string;
  readonly crv: string | undefined;
  readonly jwk: PublicJwk;
  /** The member's `issuer`, kept apart from the public key members. */
  readonly issuer: unknown;
  /** Imports are made once per algorithm and shared, failures included. */
  readonly imported: Map<AsymmetricAlgorithm, Promise<VerificationKey | undefined>>;
}

export interface IndexedKeySet {
  readonly entries: readonly KeyEntry[];
  readonly byKid: ReadonlyMap<string, readonly KeyEntry[]>;
  /** Members skipped, by reason. */
  readonly skipped: JwksSkipCounts;
  /** Epoch milliseconds, on the injected clock, when the fetch that produced it started. */
  readonly fetchedAt: number;
}

/**
 * The most members a key set may have. Issuers publish a handful (two or three while a key is
 * rotated in); a set larger than this is refused as a whole rather than cut short: keeping the
 * first hundred would silently drop the others, often the newest key, and tokens signed with it
 * would then be refused as forged with nothing to say why. A refused set leaves the last good
 * one in use (up to `jwksMaxStaleSeconds`), and the error and the `jwks_fetched` event name the
 * bound and the count.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 * @example
 * ```ts
 * onEvent: (event) => {
 *   if (event.type === 'jwks_fetched' && (event.published ?? 0) > MAX_KEY_SET_SIZE) alert(event);
 * },
 * ```
 */
export const MAX_KEY_SET_SIZE = 100;

const KEY_SET_HAS = "the authorization server's key set has ";

const curvesOf: Readonly<Record<string, readonly string[]>> = {
  EC: ['P-256', 'P-384', 'P-521'],
  OKP: ['Ed25519'],
};

type Member = Readonly<Record<string, unknown>>;

/** Why a member cannot verify anything, or `undefined` when it is a usable signing key. */
function unusable(key: unknown): JwksSkipReason | undefined {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return 'not_object';
  const { kty, crv, alg, use, key_ops: keyOps, kid } = key as Member;
  if (typeof kty !== 'string' || (kty !== 'RSA' && !Object.hasOwn(curvesOf, kty))) return 'kty';
  if (hasPrivateMembers(key as Member)) return 'private';
  if (kty !== 'RSA' && !curvesOf[kty]!.includes(crv as string)) return 'crv';
  if (use !== undefined && use !== 'sig') return 'use';
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify'))) {
    return 'key_ops';
  }
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) return 'kid';
  if (alg !== undefined && !(isAsymmetricAlgorithm(alg) && keyFitsAlgorithm(alg, kty, crv))) {
    return 'alg';
  }
  return undefined;
}

/**
 * Keeps the verification keys of a set: signing keys only (`use` absent or `sig`, `key_ops`
 * absent or with `verify`), public members only. Every other member is skipped and counted
 * (RFC 7517 §5); a key with private members is skipped, never imported. Throws a
 * `ProtocolError` for a set larger than {@link MAX_KEY_SET_SIZE} or with no usable key.
 */
export function indexKeySet(members: readonly unknown[], fetchedAt: number): IndexedKeySet {
  if (members.length > MAX_KEY_SET_SIZE) {
    const message = `${members.length} members, more than the ${MAX_KEY_SET_SIZE} read`;
    throw new ProtocolError(`${KEY_SET_HAS}${message}`, [
      { path: 'keys', code: 'too_big', message },
    ]);
  }
  const entries: KeyEntry[] = [];
  const byKid = new Map<string, KeyEntry[]>();
  const skipped: JwksSkipCounts = {};
  for (const key of members) {
    const jwk = unusable(key) ?? publicJwk(key as Member);
    if (typeof jwk === 'string' || jwk === undefined) {
      const why = jwk ?? 'members';
      skipped[why] = (skipped[why] ?? 0) + 1;
      continue;
    }
    const { kid, alg, issuer } = key as Member;
    const entry: KeyEntry = {
      kid: kid as string | undefined,
      alg: alg as string | undefined,
      kty: jwk.kty,
      crv: jwk.crv,
      jwk,
      issuer,
      imported: new Map(),
    };
    entries.push(entry);
    if (entry.kid !== undefined) {
      const same = byKid.get(entry.kid);
      if (same) same.push(entry);
      else byKid.set(entry.kid, [entry]);
    }
  }
  if (entries.length === 0) {
    const reasons = Object.entries(skipped)
      .map(([why, count]) => `${why} ${count}`)
      .join(', ');
    const message = `no usable key among ${members.length} members${reasons ? ` (skipped: ${reasons})` : ''}`;
    throw new ProtocolError(`${KEY_SET_HAS}${message}`, [
      { path: 'keys', code: 'no_usable_key', message, skipped },
    ]);
  }
  return { entries, byKid, fetchedAt, skipped };
}

export function candidates(
  set: IndexedKeySet,
  kid: string | undefined,
  alg: AsymmetricAlgorithm,
): KeyEntry[] {
  const pool = kid === undefined ? set.entries : (set.byKid.get(kid) ?? []);
  return pool.filter(
    (entry) =>
      keyFitsAlgorithm(alg, entry.kty, entry.crv) &&
      (entry.alg === undefined || sameAlgorithm(entry.alg, alg)),
  );
}

/** Why no key fits: the `kid` is not in the set, or its keys are for other algorithms. */
export function describeMiss(
  set: IndexedKeySet,
  kid: string | undefined,
  alg: AsymmetricAlgorithm,
): string {
  const kids = [...set.byKid.keys()];
  const listed =
    kids.length === 0
      ? 'no kid'
      : `${kids
          .slice(0, 5)
          .map((id) => shown(id))
          .join(', ')}${kids.length > 5 ? `, … (${kids.length})` : ''}`;
  if (kid === undefined) {
    return `the token names no kid, and no key of the set (${set.entries.length}) fits ${alg}`;
  }
  if (!set.byKid.has(kid)) {
    return `kid ${shown(kid)} is not in the key set (its kids: ${listed})`;
  }
  return `kid ${shown(kid)} is in the key set, but not for ${alg}`;
}
