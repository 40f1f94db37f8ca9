import type { Clock } from '../shared/options.js';
import { keyFitsAlgorithm, sameAlgorithm, type AsymmetricAlgorithm } from './algorithms.js';
import { reject } from './rejection.js';
import { importVerificationKey, publicJwk, type PublicJwk } from './signature.js';

/** The part of a key set the cache reads; members it does not know are ignored. */
export interface KeySetLike {
  readonly keys: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

export interface JwksCacheOptions {
  /** Reads the key set from the authorization server; may throw. */
  fetchKeySet: () => Promise<KeySetLike>;
  now: Clock;
  /** A key set this old is refreshed before use. */
  maxAgeSeconds: number;
  /** At most one fetch starts per window, whatever the reason: a `kid` miss, age or a failure. */
  cooldownSeconds: number;
  /** While refreshes fail, a key set is used until it is this old, then never. */
  maxStaleSeconds: number;
  /** Told about every fetch of the key set: why it started and how it ended. */
  onFetch?: (outcome: JwksFetchOutcome) => void;
}

/** Why the key set was fetched. */
export type JwksFetchReason = 'initial' | 'max_age' | 'ahead' | 'unknown_kid';

/** One fetch of the key set, for observability. */
export interface JwksFetchOutcome {
  reason: JwksFetchReason;
  ok: boolean;
  /** Keys kept from the set (signing keys with public members only). */
  keys?: number;
  error?: unknown;
}

/**
 * A key set this far into its maximum age is refreshed in the background while it keeps being
 * used, so under steady traffic no verification waits for the key set.
 */
const REFRESH_AHEAD_FRACTION = 0.8;

/** The issuer's verification keys, cached per resource server. */
export interface JwksCache {
  /**
   * The keys that may have signed a token with this `kid` (any key when `undefined`) and
   * `alg`. Throws a rejection with reason `key` when none fits after the allowed refetch, and
   * `jwks` when no key set young enough to use could be had.
   */
  keysFor(kid: string | undefined, alg: AsymmetricAlgorithm): Promise<CryptoKey[]>;
}

interface KeyEntry {
  readonly kid: string | undefined;
  readonly alg: string | undefined;
  readonly kty: string;
  readonly crv: string | undefined;
  readonly jwk: PublicJwk;
  /** Imports are made once per algorithm and shared, failures included. */
  readonly imported: Map<AsymmetricAlgorithm, Promise<CryptoKey | undefined>>;
}

interface IndexedKeySet {
  readonly entries: readonly KeyEntry[];
  readonly byKid: ReadonlyMap<string, readonly KeyEntry[]>;
  /** Epoch milliseconds, on the injected clock, when the fetch that produced it started. */
  readonly fetchedAt: number;
}

/** More keys than any real issuer publishes; the rest are ignored so a huge set costs nothing. */
const MAX_KEYS = 100;

/**
 * Keeps the verification keys: signing keys only (`use` absent or `sig`, `key_ops` absent or
 * with `verify`), public members only. A key with private members is skipped, never imported.
 */
function indexKeySet(set: KeySetLike, fetchedAt: number): IndexedKeySet {
  const entries: KeyEntry[] = [];
  const byKid = new Map<string, KeyEntry[]>();
  const keys = Array.isArray(set.keys) ? set.keys.slice(0, MAX_KEYS) : [];
  for (const key of keys) {
    if (typeof key !== 'object' || key === null) continue;
    const { use, key_ops: keyOps, kid, alg, crv } = key;
    if (use !== undefined && use !== 'sig') continue;
    if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify'))) continue;
    if (kid !== undefined && typeof kid !== 'string') continue;
    if (alg !== undefined && typeof alg !== 'string') continue;
    const jwk = publicJwk(key);
    if (jwk === undefined) continue;
    const entry: KeyEntry = {
      kid,
      alg,
      kty: jwk.kty,
      crv: typeof crv === 'string' ? crv : undefined,
      jwk,
      imported: new Map(),
    };
    entries.push(entry);
    if (kid !== undefined) {
      const same = byKid.get(kid);
      if (same) same.push(entry);
      else byKid.set(kid, [entry]);
    }
  }
  return { entries, byKid, fetchedAt };
}

function candidates(
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

/**
 * A key-set cache in the manner of RFC 8725 §3.1's advice to select keys only from the
 * issuer's own set: one fetch in flight shared by every caller, a maximum age, one refetch per
 * cooldown window (so a burst of forged `kid`s, or an authorization server that is down, costs
 * at most one request per window), and a bounded grace period on the last good set while
 * refreshes fail. Every time is read from the injected clock.
 */
export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const maxAgeMs = options.maxAgeSeconds * 1000;
  const cooldownMs = options.cooldownSeconds * 1000;
  const maxStaleMs = options.maxStaleSeconds * 1000;
  const refreshAheadMs = maxAgeMs * REFRESH_AHEAD_FRACTION;
  let keySet: IndexedKeySet | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let lastError: unknown;
  let inFlight: Promise<void> | undefined;

  /** Starts a fetch unless one is running (join it) or the cooldown forbids one (`undefined`). */
  function refresh(at: number, reason: JwksFetchReason): Promise<void> | undefined {
    if (inFlight) return inFlight;
    if (at - lastAttempt < cooldownMs) return undefined;
    lastAttempt = at;
    const attempt = (async () => {
      try {
        keySet = indexKeySet(await options.fetchKeySet(), at);
        lastError = undefined;
        options.onFetch?.({ reason, ok: true, keys: keySet.entries.length });
      } catch (error) {
        lastError = error;
        options.onFetch?.({ reason, ok: false, error });
      } finally {
        inFlight = undefined;
      }
    })();
    inFlight = attempt;
    return attempt;
  }

  function usableSet(at: number): IndexedKeySet {
    if (keySet === undefined || at - keySet.fetchedAt >= maxStaleMs) {
      reject('jwks', 'the signing keys of the issuer are unavailable', {
        ...(lastError === undefined ? {} : { cause: lastError }),
      });
    }
    return keySet;
  }

  async function keysFor(kid: string | undefined, alg: AsymmetricAlgorithm): Promise<CryptoKey[]> {
    const at = options.now().getTime();
    if (keySet === undefined) await refresh(at, 'initial');
    else if (at - keySet.fetchedAt >= maxAgeMs) await refresh(at, 'max_age');
    else if (at - keySet.fetchedAt >= refreshAheadMs) void refresh(at, 'ahead');
    let found = candidates(usableSet(at), kid, alg);
    if (found.length === 0) {
      const refetch = refresh(at, 'unknown_kid');
      if (refetch) {
        await refetch;
        found = candidates(usableSet(at), kid, alg);
      }
    }
    if (found.length === 0) reject('key', 'no key of the issuer matches the token');
    const keys: CryptoKey[] = [];
    for (const entry of found) {
      let imported = entry.imported.get(alg);
      if (imported === undefined) {
        imported = importVerificationKey(entry.jwk, alg);
        entry.imported.set(alg, imported);
      }
      const key = await imported;
      if (key !== undefined) keys.push(key);
    }
    if (keys.length === 0) reject('key', 'no key of the issuer matches the token');
    return keys;
  }

  return { keysFor };
}
