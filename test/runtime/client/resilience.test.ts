import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ClientAssertionError,
  createAuthClient,
  NetworkError,
  OAuthError,
  type AuthClientEvent,
} from '../../../src/client.js';
import { fakeFetch, json, manualClock } from '../fake-fetch.js';

const tokenEndpoint = 'https://idp.example.test/token';
const token = (n: number, expiresIn = 300) =>
  json({ access_token: `token-${n}`, token_type: 'Bearer', expires_in: expiresIn });
const fast = { baseDelayMs: 1, maxDelayMs: 50 };

function client(
  fetch: ReturnType<typeof fakeFetch>,
  extra: Record<string, unknown> = {},
  clock = manualClock(),
) {
  return createAuthClient({
    tokenEndpoint,
    clientId: 'c',
    clientSecret: 's',
    fetch,
    now: clock.now,
    ...extra,
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('retries', () => {
  it('retries a 503 and a dropped connection, then returns the token', async () => {
    const fetch = fakeFetch((_, i) => {
      if (i === 0) return json({ error: 'temporarily_unavailable' }, 503);
      if (i === 1)
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
      return token(i);
    });
    expect((await client(fetch, { retry: fast }).getToken()).access_token).toBe('token-2');
    expect(fetch.seen).toHaveLength(3);
  });

  it('never retries an OAuth 4xx such as invalid_scope', async () => {
    const fetch = fakeFetch(() => json({ error: 'invalid_scope' }, 400));
    await expect(client(fetch, { retry: fast }).getToken()).rejects.toMatchObject({
      code: 'invalid_scope',
    });
    expect(fetch.seen).toHaveLength(1);
  });

  it('stops after maxAttempts and reports the last answer', async () => {
    const fetch = fakeFetch(() => json({ error: 'server_error' }, 500));
    await expect(
      client(fetch, { retry: { ...fast, maxAttempts: 4 } }).getToken(),
    ).rejects.toMatchObject({ status: 500 });
    expect(fetch.seen).toHaveLength(4);
  });

  it('honours Retry-After on 429, and does not wait longer than maxDelayMs', async () => {
    const obedient = fakeFetch((_, i) =>
      i === 0 ? json({ error: 'slow_down' }, 429, { 'Retry-After': '0' }) : token(i),
    );
    expect((await client(obedient, { retry: fast }).getToken()).access_token).toBe('token-1');
    const tooLong = fakeFetch(() => json({ error: 'slow_down' }, 429, { 'Retry-After': '120' }));
    await expect(client(tooLong, { retry: fast }).getToken()).rejects.toMatchObject({
      status: 429,
    });
    expect(tooLong.seen).toHaveLength(1);
  });

  it('makes a fresh DPoP proof for every attempt (proofs are single-use)', async () => {
    const fetch = fakeFetch((_, i) =>
      i === 0 ? json({}, 502) : json({ access_token: 't', token_type: 'DPoP', expires_in: 60 }),
    );
    await client(fetch, { retry: fast, dpop: true }).getToken();
    const proofs = fetch.seen.map((r) => r.headers.get('dpop'));
    expect(proofs).toHaveLength(2);
    expect(proofs[0]).not.toBe(proofs[1]);
  });
});

describe('circuit breaker', () => {
  it('fails fast while open and lets one probe through per interval', async () => {
    const clock = manualClock();
    let down = true;
    const fetch = fakeFetch((_, i) => (down ? json({ error: 'server_error' }, 500) : token(i)));
    const auth = client(
      fetch,
      { retry: false, circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 30_000 } },
      clock,
    );
    for (let i = 0; i < 3; i++) await expect(auth.getToken()).rejects.toBeInstanceOf(OAuthError);
    const fastFailures = await Promise.allSettled(
      Array.from({ length: 20 }, () => auth.getToken()),
    );
    expect(
      fastFailures.every((o) => o.status === 'rejected' && o.reason instanceof NetworkError),
    ).toBe(true);
    expect(fetch.seen).toHaveLength(3);
    clock.advance(30);
    down = false;
    expect((await auth.getToken()).access_token).toBe('token-3');
    expect(fetch.seen).toHaveLength(4);
  });
});

/**
 * An IdP that is down from `downFromS` to `downUntilS` (seconds after the first token), answering
 * tokens of `lifetimeSeconds` otherwise; one `getToken` call every `stepMs` on the injected
 * clock, with the client's default refresh skew, retries (without their waits) and breaker.
 */
async function outage({
  lifetimeSeconds,
  downFromS,
  downUntilS,
  untilS,
  stepMs = 100,
  failure = () => json({ error: 'temporarily_unavailable' }, 503),
}: {
  lifetimeSeconds: number;
  downFromS: number;
  downUntilS: number;
  untilS: number;
  stepMs?: number;
  failure?: () => Response;
}) {
  const clock = manualClock();
  const startMs = clock.now().getTime();
  const at = () => (clock.now().getTime() - startMs) / 1000;
  const down = () => at() >= downFromS && at() < downUntilS;
  const fetch = fakeFetch((_, i) => (down() ? failure() : token(i, lifetimeSeconds)));
  const auth = client(fetch, { retry: { baseDelayMs: 0, maxDelayMs: 0 } }, clock);
  const figures = {
    calls: 0,
    errorsWithValidToken: 0,
    errorsAfterRecovery: 0,
    errorsWithoutToken: 0,
    idpRequestsWhileDown: 0,
  };
  let validUntilMs = 0;
  while (at() < untilS) {
    figures.calls++;
    const requestsBefore = fetch.seen.length;
    try {
      const { expires_at } = await auth.getToken();
      validUntilMs = (expires_at ?? 0) * 1000;
    } catch {
      if (validUntilMs > clock.now().getTime()) figures.errorsWithValidToken++;
      else if (at() >= downUntilS + 3) figures.errorsAfterRecovery++;
      else figures.errorsWithoutToken++;
    }
    if (down()) figures.idpRequestsWhileDown += fetch.seen.length - requestsBefore;
    clock.advance(stepMs / 1000);
  }
  return { ...figures, idpRequests: fetch.seen.length };
}

describe('a client assertion that cannot be had', () => {
  /** A compact JWS with a far `exp`: the server, not the client, verifies it. */
  const assertion = `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(
    '{"exp":4102444800}',
  ).toString('base64url')}.c2ln`;

  it('hands back the probe of an open circuit, so the next caller probes at once', async () => {
    const clock = manualClock();
    let sourceFails = false;
    const fetch = fakeFetch((_, i) =>
      i === 0 ? json({ error: 'temporarily_unavailable' }, 503) : token(i),
    );
    const auth = client(
      fetch,
      {
        clientSecret: undefined,
        clientAuth: 'client_assertion',
        clientAssertion: () => {
          if (sourceFails) throw new ClientAssertionError('token file missing', 'file_not_found');
          return assertion;
        },
        retry: false,
        circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 1000 },
      },
      clock,
    );
    await expect(auth.getToken()).rejects.toBeInstanceOf(OAuthError);
    clock.advance(2);
    sourceFails = true;
    await expect(auth.getToken()).rejects.toMatchObject({
      constructor: ClientAssertionError,
      code: 'file_not_found',
    });
    sourceFails = false;
    await expect(auth.getToken()).resolves.toMatchObject({ access_token: 'token-1' });
    expect(fetch.seen).toHaveLength(2);
  });

  it('is neither retried nor counted towards opening the circuit', async () => {
    const fetch = fakeFetch((_, i) => token(i));
    let calls = 0;
    const auth = client(fetch, {
      clientSecret: undefined,
      clientAuth: 'client_assertion',
      clientAssertion: () => {
        calls++;
        throw new ClientAssertionError('token file missing', 'file_not_found');
      },
      retry: { maxAttempts: 3, ...fast },
      circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 60_000 },
    });
    await expect(auth.getToken()).rejects.toBeInstanceOf(ClientAssertionError);
    await expect(auth.getToken()).rejects.toBeInstanceOf(ClientAssertionError);
    expect(calls).toBe(2);
    expect(fetch.seen).toHaveLength(0);
  });
});

describe('the breaker, the cache and stale-while-error as one policy', () => {
  it('probes before a 33 s token expires although the 30 s reset timeout has not passed, so no caller sees an error', async () => {
    // The IdP is back at 20 s; a breaker open for its full 30 s would stay shut past the
    // token's expiry at 33 s.
    const figures = await outage({ lifetimeSeconds: 33, downFromS: 2, downUntilS: 20, untilS: 40 });
    expect(figures).toMatchObject({
      errorsWithValidToken: 0,
      errorsWithoutToken: 0,
      errorsAfterRecovery: 0,
    });
  });

  it('hands the next caller a fresh token within a second of the IdP answering again, after its token expired', async () => {
    const figures = await outage({ lifetimeSeconds: 33, downFromS: 2, downUntilS: 45, untilS: 60 });
    expect(figures.errorsWithValidToken).toBe(0);
    expect(figures.errorsAfterRecovery).toBe(0);
    // Between the expiry (33 s) and the IdP's return (45 s) callers had nothing to be served.
    expect(figures.errorsWithoutToken).toBeGreaterThan(100);
    // ...and at most about one request a second went to the failing IdP.
    expect(figures.idpRequestsWhileDown).toBeLessThanOrEqual(43 - 2 + 3 * 5);
  });

  it.each([10, 33, 120, 900])(
    'keeps both promises for %i s tokens through an outage longer than their life',
    async (lifetimeSeconds) => {
      const downUntilS = 2 + lifetimeSeconds + 15;
      const figures = await outage({
        lifetimeSeconds,
        downFromS: 2,
        downUntilS,
        untilS: downUntilS + 10,
        stepMs: lifetimeSeconds > 100 ? 250 : 100,
        failure: () => {
          throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
        },
      });
      expect(figures.errorsWithValidToken).toBe(0);
      expect(figures.errorsAfterRecovery).toBe(0);
      expect(figures.idpRequestsWhileDown).toBeLessThanOrEqual(downUntilS - 2 + 25);
    },
  );
});

describe('stale-while-error', () => {
  it('keeps serving a token that has not expired when its refresh fails, and reports it', async () => {
    const clock = manualClock();
    const events: AuthClientEvent[] = [];
    let down = false;
    const fetch = fakeFetch((_, i) =>
      down ? json({ error: 'temporarily_unavailable' }, 503) : token(i, 300),
    );
    const auth = client(
      fetch,
      { retry: false, onEvent: (e: AuthClientEvent) => events.push(e) },
      clock,
    );
    await auth.getToken();
    down = true;
    clock.advance(280);
    expect((await auth.getToken()).access_token).toBe('token-0');
    expect(events.filter((e) => e.type === 'token_failed')).toEqual([
      expect.objectContaining({ servedStale: true, error: expect.any(OAuthError) }),
    ]);
    // The next attempt waits a moment instead of hammering the IdP on every call.
    const requestsSoFar = fetch.seen.length;
    expect((await auth.getToken()).access_token).toBe('token-0');
    expect(fetch.seen).toHaveLength(requestsSoFar);
    clock.advance(21);
    await expect(auth.getToken()).rejects.toBeInstanceOf(OAuthError);
  });

  it('does not serve a stale token for a forced refresh that fails after expiry', async () => {
    const clock = manualClock();
    let down = false;
    const fetch = fakeFetch((_, i) => (down ? json({}, 500) : token(i, 60)));
    const auth = client(fetch, { retry: false }, clock);
    await auth.getToken();
    down = true;
    clock.advance(61);
    await expect(auth.getToken({ forceRefresh: true })).rejects.toMatchObject({ status: 500 });
  });
});

describe('cancellation', () => {
  it('rejects a waiting caller with NetworkError when its signal aborts, and the request goes on for others', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fetch = fakeFetch(async (_, i) => {
      await gate;
      return token(i);
    });
    const auth = client(fetch);
    const controller = new AbortController();
    const impatient = auth.getToken({ signal: controller.signal });
    const patient = auth.getToken();
    controller.abort();
    await expect(impatient).rejects.toBeInstanceOf(NetworkError);
    release();
    expect((await patient).access_token).toBe('token-0');
    expect(fetch.seen).toHaveLength(1);
  });

  it('rejects at once for a signal that is already aborted', async () => {
    const fetch = fakeFetch((_, i) => token(i));
    await expect(client(fetch).getToken({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      NetworkError,
    );
  });
});

describe('events', () => {
  it('reports misses, fetches and hits without the token', async () => {
    const events: AuthClientEvent[] = [];
    const fetch = fakeFetch((_, i) => token(i));
    const auth = client(fetch, { scope: 'b a', onEvent: (e: AuthClientEvent) => events.push(e) });
    await auth.getToken();
    await auth.getToken();
    expect(events.map((e) => e.type)).toEqual(['cache_miss', 'token_fetched', 'cache_hit']);
    expect(events[1]).toMatchObject({
      slot: { scope: 'a b', resource: [] },
      tokenType: 'Bearer',
      refresh: 'none',
    });
    expect(JSON.stringify(events)).not.toContain('token-0');
  });

  it('survives a listener that throws', async () => {
    const fetch = fakeFetch((_, i) => token(i));
    const auth = client(fetch, {
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    await expect(auth.getToken()).resolves.toMatchObject({ access_token: 'token-0' });
  });
});

describe('refresh-ahead', () => {
  it('refreshes a token that is in use before it is due, so callers never wait', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 23, 12) });
    const events: AuthClientEvent[] = [];
    const fetch = fakeFetch((_, i) => token(i, 300));
    const auth = createAuthClient({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      fetch,
      refreshAhead: { refreshAheadSeconds: 60 },
      onEvent: (e) => events.push(e),
    });
    await auth.getToken();
    await vi.advanceTimersByTimeAsync(100_000);
    await auth.getToken(); // in use
    await vi.advanceTimersByTimeAsync(111_000); // 211 s: due at 270 - 60 = 210 s
    expect(fetch.seen).toHaveLength(2);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'token_fetched', refresh: 'ahead' }),
    );
    expect((await auth.getToken()).access_token).toBe('token-1');
    auth.close();
  });

  it('leaves an unused token alone and stops on close()', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 23, 12) });
    const fetch = fakeFetch((_, i) => token(i, 300));
    const auth = createAuthClient({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      fetch,
      refreshAhead: true,
    });
    await auth.getToken();
    await vi.advanceTimersByTimeAsync(400_000);
    expect(fetch.seen).toHaveLength(1);
    await auth.getToken();
    await auth.getToken();
    auth.close();
    await vi.advanceTimersByTimeAsync(400_000);
    expect(fetch.seen).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('cancellation of introspection and revocation', () => {
  it('rejects introspectToken and revokeToken with NetworkError when their signal aborts', async () => {
    const { introspectToken, revokeToken } = await import('../../../src/server.js');
    // A server that never answers, seen through a fetch that honours its signal as the real one does.
    const hang = (request: Request) =>
      new Promise<Response>((_, reject) => {
        if (request.signal.aborted) reject(request.signal.reason as unknown);
        request.signal.addEventListener('abort', () => reject(request.signal.reason as unknown));
      });
    const base = { clientId: 'c', clientSecret: 's', token: 't', fetch: hang };
    const controller = new AbortController();
    const introspection = introspectToken({
      ...base,
      introspectionEndpoint: 'https://idp.example.test/introspect',
      signal: controller.signal,
    });
    const revocation = revokeToken({
      ...base,
      revocationEndpoint: 'https://idp.example.test/revoke',
      signal: controller.signal,
    });
    controller.abort();
    await expect(introspection).rejects.toBeInstanceOf(NetworkError);
    await expect(revocation).rejects.toThrow(/aborted/);
  });
});
