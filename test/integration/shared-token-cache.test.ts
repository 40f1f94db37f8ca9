/**
 * The client's shared cache (`createAuthClient({ cache })`) in one process against the real
 * test IdP: clients sharing a store share tokens, one token request per key, the key covers
 * client, scopes, resources and DPoP key, waiting instead of asking, a lock released by its
 * owner only, time measured on the injected clock, timers that survive month-long locks, and
 * every store failure turning into a direct token request.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createMemoryStore,
  type AuthClientEvent,
  type AuthClientOptions,
  type FetchLike,
  type MemoryStore,
  type TokenStore,
  NetworkError,
} from '../../src/client.js';
import { manualClock } from '../support/clock.js';
import { CLIENTS, RESOURCES, SCOPES, startIdp, type TestIdp } from '../support/idp.js';

let idp: TestIdp;

beforeAll(async () => {
  idp = await startIdp();
});

afterAll(async () => {
  await idp.close();
});

const tokenRequests = () => idp.count('/token', 'POST');

function client(overrides: Partial<AuthClientOptions> = {}, events: AuthClientEvent[] = []) {
  return createAuthClient({
    issuer: idp.issuer,
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    scope: SCOPES.ordersRead,
    resource: RESOURCES.jwt,
    onEvent: (event) => events.push(event),
    ...overrides,
  });
}

/** A store that records every call by method and key, around a memory store. */
function recording(
  inner: MemoryStore = createMemoryStore(),
  { withWait = true, withCompareAndDelete = true } = {},
) {
  const calls: string[] = [];
  const lockValues: string[] = [];
  const logged = <R>(call: string, run: () => R): R => {
    calls.push(call);
    return run();
  };
  const store: TokenStore = {
    get: (key) => (calls.push(`get ${key}`), inner.get(key)),
    set: (key, value, ttl) => logged(`set ${key}`, () => inner.set(key, value, ttl)),
    setIfAbsent: (key, value, ttl) => (
      calls.push(`setIfAbsent ${key}`),
      lockValues.push(value),
      inner.setIfAbsent(key, value, ttl)
    ),
    delete: (key) => logged(`delete ${key}`, () => inner.delete(key)),
  };
  if (withCompareAndDelete) {
    store.compareAndDelete = (key, value) => (
      calls.push(`compareAndDelete ${key}`),
      inner.compareAndDelete(key, value)
    );
  }
  if (withWait) {
    store.waitUntilAbsent = (key, ms) => (
      calls.push(`waitUntilAbsent ${key}`),
      inner.waitUntilAbsent(key, ms)
    );
  }
  const keyOf = (prefix: string) => {
    const found = calls.map((call) => call.split(' ')[1]!).find((key) => key.startsWith(prefix));
    if (found === undefined) throw new Error(`no ${prefix} key was used`);
    return found;
  };
  return {
    store,
    inner,
    calls,
    lockValues,
    tokenKey: () => keyOf('token:'),
    lockKey: () => keyOf('token-lock:'),
  };
}

const types = (events: AuthClientEvent[]) => events.map((event) => event.type);

/** Resolves once `condition` holds, checking every 10 ms; fails after `ms`. */
async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 10) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`a condition did not hold within ${ms} ms`);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The real fetch, with token answers held back: `hang` never hands one over (the request ends
 * when the client's own timeout aborts it), `hold` hands it over on `release()`. The request
 * itself reaches the IdP either way, and is counted there.
 */
function slowTokenAnswers(mode: 'hang' | 'hold') {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const fetch: FetchLike = async (request, init) => {
    const response = await globalThis.fetch(request, init);
    if (request.method !== 'POST' || !request.url.endsWith('/token')) return response;
    if (mode === 'hold') {
      await released;
      return response;
    }
    await response.body?.cancel();
    return new Promise<Response>((_, reject) => {
      if (request.signal.aborted) reject(request.signal.reason as unknown);
      request.signal.addEventListener('abort', () => reject(request.signal.reason as unknown), {
        once: true,
      });
    });
  };
  return { fetch, release };
}

async function ed25519Pair(): Promise<{ privateKey: JWK; publicKey: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true });
  return { privateKey: await exportJWK(privateKey), publicKey: await exportJWK(publicKey) };
}

describe('clients sharing a store', () => {
  it('make one token request and hand out the same token', async () => {
    const cache = createMemoryStore();
    const before = tokenRequests();
    const first: AuthClientEvent[] = [];
    const second: AuthClientEvent[] = [];
    const a = await client({ cache }, first).getToken();
    const b = await client({ cache }, second).getToken();
    expect(tokenRequests() - before).toBe(1);
    expect(b).toEqual(a);
    expect(types(first)).toEqual(['cache_miss', 'token_fetched']);
    // The second instance never asked the IdP: no token_fetched.
    expect(types(second)).toEqual(['cache_miss', 'shared_cache_hit']);
  });

  it('make one token request when many start at once, the others waiting for it', async () => {
    const { store, calls } = recording();
    const before = tokenRequests();
    const tokens = await Promise.all(
      Array.from({ length: 12 }, () => client({ cache: store }).getAccessToken()),
    );
    expect(tokenRequests() - before).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    // Waiters slept on the lock instead of polling the store.
    expect(calls.filter((call) => call.startsWith('waitUntilAbsent')).length).toBeGreaterThan(0);
    expect(calls.filter((call) => call.startsWith('get')).length).toBeLessThanOrEqual(12 * 3);
  });

  it('make one token request with a store that cannot wake waiters: they poll, with backoff', async () => {
    const { store, calls } = recording(createMemoryStore(), { withWait: false });
    const before = tokenRequests();
    const tokens = await Promise.all(
      Array.from({ length: 8 }, () => client({ cache: store }).getAccessToken()),
    );
    expect(tokenRequests() - before).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(calls.filter((call) => call.startsWith('get')).length).toBeLessThan(8 * 10);
  });

  it('keep each instance own cache in front: a second call asks nobody', async () => {
    const { store, calls } = recording();
    const auth = client({ cache: store });
    await auth.getToken();
    const seen = calls.length;
    await auth.getToken();
    expect(calls.length).toBe(seen);
  });

  it('do not share between scope sets, resource sets or client ids', async () => {
    const cache = createMemoryStore();
    const before = tokenRequests();
    const orders = await client({ cache }).getAccessToken();
    const write = await client({ cache, scope: SCOPES.ordersWrite }).getAccessToken();
    const inventory = await client({
      cache,
      scope: SCOPES.inventoryRead,
      resource: RESOURCES.es256,
    }).getAccessToken();
    const post = await client({
      cache,
      clientId: CLIENTS.post.clientId,
      clientSecret: CLIENTS.post.clientSecret,
      clientAuth: 'client_secret_post',
    }).getAccessToken();
    expect(tokenRequests() - before).toBe(4);
    expect(new Set([orders, write, inventory, post]).size).toBe(4);
    // The same scopes in another order and spelling are the same set.
    const again = await client({
      cache,
      scope: `${SCOPES.ordersRead}  ${SCOPES.ordersRead}`,
    }).getAccessToken();
    expect(again).toBe(orders);
    expect(tokenRequests() - before).toBe(4);
  });

  it('do not share between issuers', async () => {
    const other = await startIdp();
    try {
      const cache = createMemoryStore();
      const before = [tokenRequests(), other.count('/token', 'POST')];
      await client({ cache }).getToken();
      await client({ cache, issuer: other.issuer }).getToken();
      expect([tokenRequests() - before[0]!, other.count('/token', 'POST') - before[1]!]).toEqual([
        1, 1,
      ]);
    } finally {
      await other.close();
    }
  });
});

describe('DPoP-bound tokens in a shared store', () => {
  it('are shared only by holders of the same DPoP key', async () => {
    const cache = createMemoryStore();
    const [keyA, keyB] = await Promise.all([ed25519Pair(), ed25519Pair()]);
    const before = tokenRequests();
    const a1 = await client({ cache, dpop: keyA }).getToken();
    const a2 = await client({ cache, dpop: keyA }).getToken();
    const b = await client({ cache, dpop: keyB }).getToken();
    const fresh = await client({ cache, dpop: true }).getToken();
    const bearer = await client({ cache }).getToken();
    expect(tokenRequests() - before).toBe(4);
    expect(a1.token_type).toBe('DPoP');
    expect(a2).toEqual(a1);
    expect(
      new Set([a1.access_token, b.access_token, fresh.access_token, bearer.access_token]).size,
    ).toBe(4);
    expect(bearer.token_type).toBe('Bearer');
  });
});

describe('token lifetimes in a shared store', () => {
  it('serves no token past its refresh time: one instance replaces it for all', async () => {
    const clock = manualClock();
    const cache = createMemoryStore({ now: clock.now });
    const before = tokenRequests();
    const first = await client({ cache, now: clock.now }).getAccessToken();
    clock.advance(275); // past the refresh point: 300 s lifetime, 30 s skew
    const second = await client({ cache, now: clock.now }).getAccessToken();
    const third = await client({ cache, now: clock.now }).getAccessToken();
    expect(tokenRequests() - before).toBe(2);
    expect(second).not.toBe(first);
    expect(third).toBe(second);
  });

  it('stores a token for as long as it lives', async () => {
    const { store, inner, tokenKey } = recording();
    const spy: number[] = [];
    const set = store.set.bind(store);
    store.set = (key, value, ttl) => (spy.push(ttl), set(key, value, ttl));
    await client({ cache: store }).getToken();
    expect(inner.get(tokenKey())).toBeDefined();
    expect(spy).toHaveLength(1);
    expect(spy[0]).toBeGreaterThan(295);
    expect(spy[0]).toBeLessThanOrEqual(301);
  });

  it('replaces the shared token on forceRefresh', async () => {
    const cache = createMemoryStore();
    const before = tokenRequests();
    const old = await client({ cache }).getAccessToken();
    const renewed = await client({ cache }).getAccessToken({ forceRefresh: true });
    const later = await client({ cache }).getAccessToken();
    expect(tokenRequests() - before).toBe(2);
    expect(renewed).not.toBe(old);
    expect(later).toBe(renewed);
  });

  it('refreshes ahead with a new token, not the shared one it is replacing, and only once', async () => {
    const short = await startIdp({ accessTokenTTL: 6 });
    try {
      const cache = createMemoryStore();
      const auth = client({
        cache,
        issuer: short.issuer,
        refreshSkewSeconds: 2,
        refreshAhead: { refreshAheadSeconds: 2 },
      });
      const first = await auth.getAccessToken();
      await auth.getAccessToken(); // in use: worth refreshing ahead
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const second = await auth.getAccessToken();
      auth.close();
      expect(second).not.toBe(first);
      expect(short.count('/token', 'POST')).toBe(2);
    } finally {
      await short.close();
    }
  });
});

describe('the lock of a shared store', () => {
  /**
   * A holder with a 1 s lock whose token request hangs for 1.5 s; the next holder takes the
   * lock once it ran out, its answer held back; then the slow holder gives up and releases,
   * and a late instance comes. How many token requests reach the IdP?
   */
  async function slowHolderScenario(store: TokenStore, inner: MemoryStore, lockKey: () => string) {
    const before = tokenRequests();
    const slowEvents: AuthClientEvent[] = [];
    const slow = client(
      {
        cache: store,
        fetch: slowTokenAnswers('hang').fetch,
        timeoutMs: 1_500,
        retry: false,
        cacheLockSeconds: 1,
      },
      slowEvents,
    );
    const slowCall = slow.getToken().then(
      () => undefined,
      (error: unknown) => error,
    );
    await until(() => tokenRequests() === before + 1);
    await until(() => inner.get(lockKey()) === undefined);

    const held = slowTokenAnswers('hold');
    const nextCall = client({ cache: store, fetch: held.fetch }).getAccessToken();
    await until(() => tokenRequests() === before + 2);
    const nextOwner = inner.get(lockKey());
    expect(nextOwner).toBeDefined();

    expect(await slowCall).toBeInstanceOf(NetworkError);
    const lockAfterSlowRelease = inner.get(lockKey());

    const lateEvents: AuthClientEvent[] = [];
    const lateCall = client({ cache: store }, lateEvents).getAccessToken();
    // Time for the late instance to ask the IdP, were the lock gone.
    await pause(200);
    const requestsWhileHeld = tokenRequests() - before;
    held.release();
    const [fromNext, fromLate] = await Promise.all([nextCall, lateCall]);
    return {
      nextOwner,
      lockAfterSlowRelease,
      requestsWhileHeld,
      requests: tokenRequests() - before,
      sameToken: fromLate === fromNext,
      lateEvents: types(lateEvents),
    };
  }

  it('stays with the next holder when a holder outlives its own: 2 token requests, not 3', async () => {
    const { store, inner, calls, lockKey } = recording();
    const result = await slowHolderScenario(store, inner, lockKey);
    console.info(
      `shared cache: a holder outliving its 1 s lock, the next holder, a late instance → ${result.requests} token requests at the IdP`,
    );
    expect(result.lockAfterSlowRelease).toBe(result.nextOwner);
    expect(result.requestsWhileHeld).toBe(2);
    expect(result.requests).toBe(2);
    expect(result.sameToken).toBe(true);
    expect(result.lateEvents).toContain('shared_cache_hit');
    // Released by compare-and-delete, never by a plain delete.
    expect(calls.filter((call) => call.startsWith('delete '))).toEqual([]);
    expect(inner.get(lockKey())).toBeUndefined();
  });

  it('stays with the next holder on a store without compareAndDelete too: a late release is left to expire', async () => {
    const { store, inner, lockKey } = recording(createMemoryStore(), {
      withCompareAndDelete: false,
    });
    const result = await slowHolderScenario(store, inner, lockKey);
    expect(result.lockAfterSlowRelease).toBe(result.nextOwner);
    expect(result.requests).toBe(2);
    expect(result.sameToken).toBe(true);
  });

  it('is still released at once on a store without compareAndDelete, by reading its own owner token back', async () => {
    const { store, calls, lockKey } = recording(createMemoryStore(), {
      withCompareAndDelete: false,
    });
    const before = tokenRequests();
    const started = Date.now();
    const tokens = await Promise.all(
      Array.from({ length: 6 }, () => client({ cache: store }).getAccessToken()),
    );
    expect(tokenRequests() - before).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    // Waiters woke when the lock went, not when its 15 s ran out.
    expect(Date.now() - started).toBeLessThan(3_000);
    const read = calls.indexOf(`get ${lockKey()}`);
    expect(read).toBeGreaterThanOrEqual(0);
    expect(calls.indexOf(`delete ${lockKey()}`)).toBeGreaterThan(read);
  });

  it('holds a fresh random owner token for every acquisition: 128 bits, never a token', async () => {
    const { store, inner, tokenKey, lockValues } = recording();
    const first = await client({ cache: store }).getAccessToken();
    inner.delete(tokenKey());
    const second = await client({ cache: store }).getAccessToken();
    expect(lockValues).toHaveLength(2);
    for (const value of lockValues) {
      expect(value).toMatch(/^[\w-]{22}$/);
      expect(value).not.toContain(first.slice(0, 22));
      expect(value).not.toContain(second.slice(0, 22));
    }
    expect(lockValues[0]).not.toBe(lockValues[1]);
  });

  it('measures the wait for a stuck lock on the injected clock, not the system clock', async () => {
    const { store, inner, tokenKey } = recording();
    await client({ cache: store }).getToken();
    const token = tokenKey();
    inner.delete(token);
    inner.setIfAbsent(lockKeyFor(token), 'stuck', 3600);
    const clock = manualClock();
    const before = tokenRequests();
    const started = Date.now();
    const call = client({ cache: store, cacheLockSeconds: 1, now: clock.now }).getToken();
    await pause(100);
    // Two lock times pass on the client's clock while one 1 s wait is under way.
    clock.advance(3);
    await call;
    const tookMs = Date.now() - started;
    expect(tokenRequests() - before).toBe(1);
    expect(tookMs).toBeGreaterThanOrEqual(900);
    expect(tookMs).toBeLessThan(1_700);
  });

  it('waits for a lock that lives 30 days without spinning or asking the IdP', async () => {
    const days = 24 * 60 * 60;
    const { store, inner, calls, tokenKey } = recording();
    await client({ cache: store }).getToken();
    const token = tokenKey();
    inner.delete(token);
    inner.setIfAbsent(lockKeyFor(token), 'month-long-holder', 30 * days);
    calls.length = 0;
    const events: AuthClientEvent[] = [];
    const before = tokenRequests();
    const call = client({ cache: store, cacheLockSeconds: 30 * days }, events).getAccessToken();
    await pause(300);
    // One read, one lock attempt, one wait: a timer that overflowed would have woken at once.
    expect(tokenRequests() - before).toBe(0);
    expect(calls.filter((entry) => entry.startsWith('get '))).toHaveLength(1);
    expect(calls.filter((entry) => entry.startsWith('waitUntilAbsent '))).toHaveLength(1);
    expect(types(events)).not.toContain('store_error');
    // The holder is done without a token: the waiter takes over and asks once.
    inner.compareAndDelete(lockKeyFor(token), 'month-long-holder');
    expect(await call).toBeTruthy();
    expect(tokenRequests() - before).toBe(1);
  });
});

describe('a shared store that fails', () => {
  const hangs = () => new Promise<never>(() => undefined);

  it.each([
    [
      'throws',
      () => {
        throw new Error('store is down');
      },
    ],
    ['rejects', () => Promise.reject(new Error('connection refused'))],
    ['never answers', hangs],
  ] as const)('costs a direct token request when every call %s', async (_name, fail) => {
    const store: TokenStore = {
      get: fail,
      set: fail,
      setIfAbsent: fail,
      delete: fail,
      waitUntilAbsent: fail,
    };
    const events: AuthClientEvent[] = [];
    const before = tokenRequests();
    const started = Date.now();
    const token = await client({ cache: store, cacheTimeoutMs: 100 }, events).getToken();
    expect(token.access_token).toBeTruthy();
    expect(tokenRequests() - before).toBe(1);
    expect(Date.now() - started).toBeLessThan(3_000);
    const errors = events.filter((event) => event.type === 'store_error');
    expect(errors.map((event) => event.operation)).toContain('get');
    for (const event of errors) expect(event.error).toBeInstanceOf(Error);
  });

  it('costs a direct token request when only the lock fails', async () => {
    const inner = createMemoryStore();
    const store: TokenStore = {
      get: (key) => inner.get(key),
      set: (key, value, ttl) => inner.set(key, value, ttl),
      setIfAbsent: () =>
        Promise.reject(new Error('READONLY You can not write against a read only replica')),
      delete: (key) => inner.delete(key),
    };
    const events: AuthClientEvent[] = [];
    expect(await client({ cache: store }, events).getAccessToken()).toBeTruthy();
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'store_error', operation: 'setIfAbsent' }),
    );
  });

  it('reports and replaces garbage found under the token key', async () => {
    const { store, inner, tokenKey } = recording();
    await client({ cache: store }).getToken();
    const garbage = [
      'not json',
      '{"v":2}',
      '[]',
      'null',
      '{"v":1,"access_token":"x","token_type":"MAC","refresh_at_ms":null}',
    ];
    for (const value of garbage) {
      inner.set(tokenKey(), value, 60);
      const events: AuthClientEvent[] = [];
      const before = tokenRequests();
      expect(await client({ cache: store }, events).getAccessToken()).toBeTruthy();
      expect(tokenRequests() - before).toBe(1);
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'store_error', operation: 'decode' }),
      );
      // The garbage is gone: the next instance finds the new token.
      const next: AuthClientEvent[] = [];
      await client({ cache: store }, next).getToken();
      expect(types(next)).toContain('shared_cache_hit');
    }
  });

  it('refuses a shared DPoP token when this client has no DPoP key', async () => {
    const { store, inner, tokenKey } = recording();
    await client({ cache: store }).getToken();
    const entry = JSON.parse(inner.get(tokenKey())!) as Record<string, unknown>;
    inner.set(tokenKey(), JSON.stringify({ ...entry, token_type: 'DPoP' }), 60);
    const events: AuthClientEvent[] = [];
    const token = await client({ cache: store }, events).getToken();
    expect(token.token_type).toBe('Bearer');
    expect(types(events)).toContain('store_error');
  });

  it('never puts a token in an event, even when the store quotes what it was given', async () => {
    const events: AuthClientEvent[] = [];
    const inner = createMemoryStore();
    const store: TokenStore = {
      get: (key) => inner.get(key),
      set: (_key, value) => Promise.reject(new Error(`OOM while storing ${value}`)),
      setIfAbsent: (key, value, ttl) => inner.setIfAbsent(key, value, ttl),
      delete: (key) => inner.delete(key),
    };
    const token = await client({ cache: store }, events).getAccessToken();
    const setError = events.find(
      (event) => event.type === 'store_error' && event.operation === 'set',
    );
    expect(setError).toBeDefined();
    expect(
      JSON.stringify(
        events.map((event) => ({
          ...event,
          error: 'error' in event ? String(event.error) : undefined,
        })),
      ),
    ).not.toContain(token);
    expect((setError as { error: Error }).error.message).toContain('[redacted]');
  });

  it('lets the others go ahead once the lock of an instance that died runs out', async () => {
    const { store, inner, tokenKey, lockKey } = recording();
    await client({ cache: store }).getToken();
    const token = tokenKey();
    // What a crashed holder leaves behind: no token, a lock with a second to live.
    inner.delete(token);
    const lock = lockKeyFor(token);
    inner.setIfAbsent(lock, 'dead-holder', 1);
    const before = tokenRequests();
    const started = Date.now();
    await client({ cache: store }).getToken();
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(tokenRequests() - before).toBe(1);
    expect(lockKey()).toBe(lock);
  });

  it('goes ahead after twice the lock time when a lock never goes away', async () => {
    const { store, inner, tokenKey } = recording();
    await client({ cache: store }).getToken();
    const token = tokenKey();
    inner.delete(token);
    inner.setIfAbsent(lockKeyFor(token), 'stuck', 3600);
    const before = tokenRequests();
    const started = Date.now();
    await client({ cache: store, cacheLockSeconds: 1 }).getToken();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_800);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(tokenRequests() - before).toBe(1);
  });
});

function lockKeyFor(tokenKey: string): string {
  return tokenKey.replace(/^token:/, 'token-lock:');
}

describe('the cache options', () => {
  it('are checked when the client is made', () => {
    // @ts-expect-error not a store
    expect(() => client({ cache: {} })).toThrow(/TokenStore/);
    // @ts-expect-error not a store
    expect(() => client({ cache: 'redis://127.0.0.1' })).toThrow(TypeError);
    expect(() => client({ cache: createMemoryStore(), cacheTimeoutMs: 0 })).toThrow(
      /cacheTimeoutMs/,
    );
    expect(() => client({ cacheLockSeconds: -1 })).toThrow(/cacheLockSeconds/);
  });
});
