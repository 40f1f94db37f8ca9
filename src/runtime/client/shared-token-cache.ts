import type { DpopSigner } from '../dpop/proof.js';
import { randomBase64url, sha256Base64url } from '../crypto/backend.js';
import { optionalPositiveNumber, type Clock } from '../shared/options.js';
import { redact } from '../shared/redact.js';
import type { TokenStore } from '../shared/store.js';
import { scheduleTimeout, sleep } from '../shared/timers.js';
import type {
  AuthClientEvent,
  RefreshReason,
  StoreOperation,
  TokenSlot,
} from './auth-client-events.js';
import type { AccessToken } from './types.js';
import { slotOf, type TokenTarget } from './cache-key.js';
import { decodeStoredToken, encodeStoredToken } from './stored-token.js';
import type { CacheEntry } from './token-cache.js';

/** The shared-cache options of `createAuthClient`, checked. */
export type SharedCacheSettings = NonNullable<ReturnType<typeof resolveSharedCache>>;

/** What the shared cache needs from the client that owns it. */
export interface SharedCacheContext {
  issuer: string | undefined;
  tokenEndpoint: string | undefined;
  clientId: string;
  signer: DpopSigner | undefined;
  now: Clock;
  /** The client's timeout per IdP request: the default lock lives a little longer. */
  timeoutMs: number;
  refreshAheadMs: number | undefined;
  emit: ((event: AuthClientEvent) => void) | undefined;
}

/** A token entry, marked when it came from the shared store rather than from the IdP. */
export type SharedCacheEntry = CacheEntry<AccessToken> & { shared?: true };

export interface SharedTokenCache {
  /**
   * A token for `target`: from the shared store when a fresh one is there, else from `fetch`
   * run by one instance of the fleet at a time, the others waiting for its result.
   */
  load(
    target: TokenTarget,
    refresh: RefreshReason,
    fetch: () => Promise<CacheEntry<AccessToken>>,
  ): Promise<SharedCacheEntry>;
}

const isStore = (value: unknown): value is TokenStore =>
  typeof value === 'object' &&
  value !== null &&
  ['get', 'set', 'setIfAbsent', 'delete'].every(
    (name) => typeof (value as Record<string, unknown>)[name] === 'function',
  );

/** Checks `cache`, `cacheTimeoutMs` and `cacheLockSeconds`; `undefined` when there is no shared cache. */
export function resolveSharedCache(
  options: { cache?: unknown; cacheTimeoutMs?: unknown; cacheLockSeconds?: unknown },
  where: string,
) {
  const storeTimeoutMs = optionalPositiveNumber(
    options.cacheTimeoutMs,
    'cacheTimeoutMs',
    where,
    250,
  );
  const lockSeconds = optionalPositiveNumber(
    options.cacheLockSeconds,
    'cacheLockSeconds',
    where,
    0,
  );
  if (options.cache === undefined) return undefined;
  if (!isStore(options.cache)) {
    throw new TypeError(
      `${where}: \`cache\` must be a TokenStore: { get, set, setIfAbsent, delete }`,
    );
  }
  return {
    store: options.cache,
    storeTimeoutMs,
    /** `undefined`: a little longer than one IdP request may take. */
    lockSeconds: lockSeconds > 0 ? Math.ceil(lockSeconds) : undefined,
  };
}

/** What a failed store call looks like in an event: its name and message, scrubbed, nothing else. */
function reportable(error: unknown, secrets: readonly (string | undefined)[]): Error {
  const described = new Error(
    redact(error instanceof Error ? error.message : String(error), secrets),
  );
  if (error instanceof Error) described.name = error.name;
  return described;
}

const failed = Symbol('failed');
type Failed = typeof failed;

/** A token whose lifetime is unknown is shared this long; each holder keeps it as it would its own. */
const unknownLifetimeSeconds = 300;
/** Rounds of read, lock, wait before a caller stops waiting for others and asks the IdP itself. */
const maxRounds = 64;
/** Bytes of CSPRNG output in a lock's owner token: 128 bits, never guessed, never repeated. */
const ownerBytes = 16;

/** Settles like `call()`, or rejects once `ms` have passed; a late answer is dropped. */
function bounded<T>(call: () => T | Promise<T>, ms: number, operation: StoreOperation): Promise<T> {
  let result: T | Promise<T>;
  try {
    result = call();
  } catch (error) {
    return Promise.reject(error);
  }
  if (typeof (result as { then?: unknown } | null)?.then !== 'function')
    return Promise.resolve(result);
  const pending = Promise.resolve(result);
  return new Promise<T>((resolve, reject) => {
    const timer = scheduleTimeout(
      () => reject(new Error(`the token store did not answer ${operation} within ${ms} ms`)),
      ms,
    );
    pending.then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (error: unknown) => {
        timer.cancel();
        reject(error);
      },
    );
  });
}

/**
 * The second level of the token cache: a store shared by a fleet. An instance that misses its
 * own cache reads the store; on a miss, one instance takes a lock (`setIfAbsent` with a time to
 * live and a random owner token) and asks the IdP while the others wait for the lock to go,
 * then read what it stored. The holder releases only its own lock (`compareAndDelete`), so one
 * that outlived its lock leaves the next holder's alone. Every store call has a deadline, every
 * store failure ends in a direct token request, and every time decision is taken on `now`.
 */
export function createSharedTokenCache(
  settings: SharedCacheSettings,
  context: SharedCacheContext,
): SharedTokenCache {
  const { store, storeTimeoutMs } = settings;
  const { signer, now, emit, refreshAheadMs } = context;
  const lockSeconds = settings.lockSeconds ?? Math.ceil(context.timeoutMs / 1000) + 5;
  const lockMs = lockSeconds * 1000;

  /** Store keys name the token's whole identity, hashed: server, client, scopes, resources, DPoP key. */
  async function keysOf(target: TokenTarget) {
    const jkt = signer ? await signer.thumbprint() : null;
    const hash = await sha256Base64url(
      JSON.stringify([
        's2s-auth token v1',
        context.issuer ?? null,
        context.tokenEndpoint ?? null,
        context.clientId,
        target.key,
        jkt,
      ]),
    );
    // One hash tag for both: on Redis Cluster the token and its lock live in one slot.
    return { value: `token:{${hash}}`, lock: `token-lock:{${hash}}` };
  }

  async function attempt<T>(
    operation: StoreOperation,
    slot: TokenSlot,
    call: () => T | Promise<T>,
    secrets: readonly (string | undefined)[] = [],
    ms = storeTimeoutMs,
  ): Promise<T | Failed> {
    try {
      return await bounded(call, ms, operation);
    } catch (error) {
      emit?.({ type: 'store_error', slot, operation, error: reportable(error, secrets) });
      return failed;
    }
  }

  /** A stored token still fresh at `freshAtMs`; `undefined` for a miss or garbage. */
  async function read(
    key: string,
    slot: TokenSlot,
    freshAtMs: number,
  ): Promise<SharedCacheEntry | undefined | Failed> {
    const text = await attempt('get', slot, () => store.get(key));
    if (text === failed) return failed;
    if (text === undefined || text === null) return undefined;
    const entry = decodeStoredToken(text, signer !== undefined);
    if (entry === undefined) {
      // Garbage is a miss: the next token stored under the key replaces it.
      emit?.({
        type: 'store_error',
        slot,
        operation: 'decode',
        error: new Error('the stored value is not a token entry'),
      });
      return undefined;
    }
    const expiresAt = entry.value.expires_at;
    if (
      !(entry.refreshAtMs > freshAtMs) ||
      (expiresAt !== undefined && expiresAt * 1000 <= now().getTime())
    ) {
      return undefined;
    }
    emit?.({ type: 'shared_cache_hit', slot });
    return { ...entry, shared: true };
  }

  async function write(
    key: string,
    entry: CacheEntry<AccessToken>,
    slot: TokenSlot,
  ): Promise<void> {
    const expiresAt = entry.value.expires_at;
    const ttlSeconds =
      expiresAt === undefined
        ? unknownLifetimeSeconds
        : Math.ceil(expiresAt - now().getTime() / 1000);
    if (ttlSeconds < 1) return;
    await attempt('set', slot, () => store.set(key, encodeStoredToken(entry), ttlSeconds), [
      entry.value.access_token,
    ]);
  }

  /** Until the lock is gone (or for a while); `failed` when the store failed while waiting. */
  async function waitForLock(lock: string, slot: TokenSlot, remainingMs: number, round: number) {
    if (typeof store.waitUntilAbsent === 'function') {
      const ms = Math.min(remainingMs, lockMs);
      return attempt(
        'waitUntilAbsent',
        slot,
        () => store.waitUntilAbsent!(lock, ms),
        [],
        ms + storeTimeoutMs,
      );
    }
    // No wake-up signal: poll, from every 25 ms up to every 500 ms, jittered.
    const base = Math.min(500, 25 * 2 ** round);
    await sleep(Math.min(remainingMs, base / 2 + Math.random() * (base / 2)));
    return true;
  }

  /**
   * Gives the lock back if it is still this holder's. With `compareAndDelete` the store checks
   * and deletes in one step. Without it, the lock is read back and deleted only while it holds
   * this holder's owner token and less than half its time has passed on `now`; otherwise it is
   * left to run out, which costs the waiters at most the rest of the lock time.
   */
  async function release(lock: string, owner: string, takenAtMs: number, slot: TokenSlot) {
    if (typeof store.compareAndDelete === 'function') {
      await attempt('compareAndDelete', slot, () => store.compareAndDelete!(lock, owner));
      return;
    }
    const stillOurs = () => now().getTime() - takenAtMs < lockMs / 2;
    if (!stillOurs()) return;
    const held = await attempt('get', slot, () => store.get(lock));
    if (held !== owner || !stillOurs()) return;
    await attempt('delete', slot, () => store.delete(lock));
  }

  async function load(
    target: TokenTarget,
    refresh: RefreshReason,
    fetch: () => Promise<CacheEntry<AccessToken>>,
  ): Promise<SharedCacheEntry> {
    const slot: TokenSlot = slotOf(target);
    let key: { value: string; lock: string };
    try {
      key = await keysOf(target);
    } catch {
      return fetch();
    }
    if (refresh === 'forced') {
      // The caller was told its token is no good: skip the store, replace what it holds.
      const entry = await fetch();
      await write(key.value, entry, slot);
      return entry;
    }
    // A refresh ahead of time wants a token that will not itself be due for one.
    const freshAt = () => now().getTime() + (refresh === 'ahead' ? (refreshAheadMs ?? 0) : 0);
    // Waiting for others ends after twice the lock time, measured on the client's clock.
    const deadlineMs = now().getTime() + 2 * lockMs;
    for (let round = 0; round < maxRounds; round++) {
      const found = await read(key.value, slot, freshAt());
      if (found === failed) return fetch();
      if (found) return found;
      // A new owner token for every acquisition: random, in the clear, carrying no token.
      const owner = randomBase64url(ownerBytes);
      const takenAtMs = now().getTime();
      const locked = await attempt('setIfAbsent', slot, () =>
        store.setIfAbsent(key.lock, owner, lockSeconds),
      );
      if (locked === failed) return fetch();
      if (locked) {
        try {
          // Another instance may have stored a token between our read and our lock.
          const again = await read(key.value, slot, freshAt());
          if (again !== failed && again) return again;
          const entry = await fetch();
          await write(key.value, entry, slot);
          return entry;
        } finally {
          await release(key.lock, owner, takenAtMs, slot);
        }
      }
      const remainingMs = deadlineMs - now().getTime();
      if (remainingMs <= 0) break;
      if ((await waitForLock(key.lock, slot, remainingMs, round)) === failed) return fetch();
    }
    return fetch();
  }

  return { load };
}
