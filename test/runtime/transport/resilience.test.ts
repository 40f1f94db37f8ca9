import { describe, expect, it } from 'vitest';
import { ClientAssertionError, NetworkError, ProtocolError } from '../../../src/runtime/errors.js';
import {
  backoffMs,
  CircuitBreaker,
  isEndpointFailure,
  isRetryableStatus,
  MIN_PROBE_INTERVAL_MS,
  resolveBreaker,
  resolveRetry,
  Resilience,
  retryAfterMs,
  RetryBudget,
} from '../../../src/runtime/transport/resilience.js';
import { manualClock } from '../fake-fetch.js';

describe('retry policy', () => {
  it('retries 429 and 5xx only', () => {
    expect([400, 401, 403, 404, 428, 429, 500, 502, 503].map(isRetryableStatus)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
  });

  it('draws full-jitter waits below the exponential cap', () => {
    const policy = resolveRetry({ baseDelayMs: 100, maxDelayMs: 1000 }, 't');
    expect(backoffMs(0, policy, () => 0.999)).toBe(99);
    expect(backoffMs(2, policy, () => 0.999)).toBe(399);
    expect(backoffMs(10, policy, () => 0.999)).toBe(999);
    expect(backoffMs(3, policy, () => 0)).toBe(0);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(new Date(now + 5000).toUTCString(), now)).toBe(5000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });

  it('rejects nonsense options with TypeError', () => {
    expect(() => resolveRetry({ maxAttempts: 0 }, 't')).toThrow(TypeError);
    expect(() => resolveRetry('yes' as never, 't')).toThrow(TypeError);
    expect(() => resolveBreaker({ failureThreshold: 1.5 }, 't')).toThrow(TypeError);
    expect(resolveRetry(false, 't').maxAttempts).toBe(1);
    expect(resolveBreaker(false, 't')).toBeUndefined();
  });
});

describe('RetryBudget', () => {
  it('stops retries after a run of failures and earns them back slowly on success', () => {
    const budget = new RetryBudget(10);
    for (let i = 0; i < 6; i++) budget.recordFailure();
    expect(budget.canRetry).toBe(false);
    for (let i = 0; i < 9; i++) budget.recordSuccess();
    expect(budget.canRetry).toBe(false);
    for (let i = 0; i < 2; i++) budget.recordSuccess();
    expect(budget.canRetry).toBe(true);
  });
});

describe('CircuitBreaker', () => {
  it('opens after the threshold, lets one probe through after the timeout, and closes on success', () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeoutMs: 10_000 }, clock.now);
    for (let i = 0; i < 3; i++) {
      expect(breaker.tryAcquire(Infinity)).toBe(true);
      breaker.recordFailure();
    }
    expect(breaker.tryAcquire(Infinity)).toBe(false);
    expect(breaker.retryInMs(Infinity)).toBe(10_000);
    clock.advance(10);
    expect(breaker.tryAcquire(Infinity)).toBe(true);
    expect(breaker.tryAcquire(Infinity)).toBe(false);
    breaker.recordSuccess();
    expect(breaker.tryAcquire(Infinity)).toBe(true);
  });

  it('opens again at once when the probe fails', () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeoutMs: 1000 }, clock.now);
    breaker.recordFailure();
    breaker.recordFailure();
    clock.advance(1);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure();
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('gives a probe back on release, and leaves a closed circuit as it was', () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 1000 }, clock.now);
    breaker.release();
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure();
    clock.advance(1);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.release();
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('forgets isolated failures after a success', () => {
    const breaker = new CircuitBreaker(
      { failureThreshold: 2, resetTimeoutMs: 1000 },
      manualClock().now,
    );
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    expect(breaker.tryAcquire()).toBe(true);
  });

  it("lets a probe through halfway to the expiry of the caller's token, long before resetTimeoutMs", () => {
    const clock = manualClock();
    const openedAt = clock.now().getTime();
    const expiresAt = openedAt + 20_000;
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 30_000 }, clock.now);
    breaker.recordFailure();
    expect(breaker.retryInMs(expiresAt)).toBe(10_000);
    clock.advance(9.9);
    expect(breaker.tryAcquire(expiresAt)).toBe(false);
    clock.advance(0.1);
    expect(breaker.tryAcquire(expiresAt)).toBe(true);
    // The probe failed: the next one goes halfway to the expiry again, still before it.
    breaker.recordFailure();
    expect(breaker.retryInMs(expiresAt)).toBe(5_000);
  });

  it('probes at most once a second while closing in on the expiry, and never after it', () => {
    const clock = manualClock();
    const expiresAt = clock.now().getTime() + 10_000;
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 30_000 }, clock.now);
    breaker.recordFailure();
    const probes: number[] = [];
    for (let ms = 0; ms < 10_000; ms += 50) {
      if (breaker.tryAcquire(expiresAt)) {
        probes.push(clock.now().getTime() - (expiresAt - 10_000));
        breaker.recordFailure();
      }
      clock.advance(0.05);
    }
    expect(probes[0]).toBe(5000);
    expect(probes.length).toBeGreaterThan(3);
    expect(probes.length).toBeLessThan(10);
    for (let i = 1; i < probes.length; i++)
      expect(probes[i]! - probes[i - 1]!).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...probes)).toBeLessThan(10_000);
  });

  it('lets a caller that holds no usable token probe once a second (or every resetTimeoutMs when shorter)', () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 30_000 }, clock.now);
    breaker.recordFailure();
    expect(breaker.retryInMs()).toBe(MIN_PROBE_INTERVAL_MS);
    clock.advance(0.999);
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(0.001);
    expect(breaker.tryAcquire()).toBe(true);
    const quick = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 200 }, clock.now);
    quick.recordFailure();
    expect(quick.retryInMs()).toBe(200);
  });

  it('never lets a second probe out while one is in flight, whatever the caller holds', () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 1000 }, clock.now);
    breaker.recordFailure();
    clock.advance(1);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.tryAcquire(clock.now().getTime() + 1)).toBe(false);
    clock.advance(60);
    expect(breaker.tryAcquire()).toBe(false);
  });
});

describe('Resilience.run', () => {
  const failing = () => Promise.resolve({ response: new Response('down', { status: 503 }) });

  it('counts network and protocol errors against the endpoint, not a client assertion error', () => {
    expect(isEndpointFailure(new NetworkError('down', undefined, 'refused'))).toBe(true);
    expect(isEndpointFailure(new ProtocolError('bad body', [], 'schema'))).toBe(true);
    expect(isEndpointFailure(new ClientAssertionError('no file', 'file_not_found'))).toBe(false);
  });

  it('throws a client assertion error at once: one attempt, the circuit left closed', async () => {
    const resilience = new Resilience(
      resolveRetry({ maxAttempts: 3, baseDelayMs: 0 }, 't'),
      resolveBreaker({ failureThreshold: 1, resetTimeoutMs: 30_000 }, 't'),
      manualClock().now,
    );
    let attempts = 0;
    const noAssertion = () => {
      attempts++;
      return Promise.reject(new ClientAssertionError('no file', 'file_not_found'));
    };
    await expect(resilience.run('u', 'token endpoint', noAssertion)).rejects.toMatchObject({
      constructor: ClientAssertionError,
      code: 'file_not_found',
    });
    expect(attempts).toBe(1);
    const answer = await resilience.run('u', 'token endpoint', () =>
      Promise.resolve({ response: new Response('{}', { status: 200 }) }),
    );
    expect(answer.response.status).toBe(200);
  });

  it('ends a run whose retry the circuit refuses with the answer that opened it, not "circuit open"', async () => {
    const resilience = new Resilience(
      resolveRetry({ maxAttempts: 3, baseDelayMs: 0 }, 't'),
      resolveBreaker({ failureThreshold: 1, resetTimeoutMs: 30_000 }, 't'),
      manualClock().now,
    );
    const answer = await resilience.run(
      'https://idp.example.test/token',
      'token endpoint',
      failing,
    );
    expect(answer.response.status).toBe(503);
  });

  it('refuses the first attempt of a run while open with a NetworkError that says how long', async () => {
    const clock = manualClock();
    const resilience = new Resilience(
      resolveRetry(false, 't'),
      resolveBreaker({ failureThreshold: 1, resetTimeoutMs: 30_000 }, 't'),
      clock.now,
    );
    await resilience.run('u', 'token endpoint', failing);
    const error = await resilience
      .run('u', 'token endpoint', failing, { fallbackUntilMs: clock.now().getTime() + 8000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).cause).toEqual({ circuit: 'open', endpoint: 'u' });
    expect((error as NetworkError).message).toMatch(/another 4 s \(circuit open\)/);
  });
});
