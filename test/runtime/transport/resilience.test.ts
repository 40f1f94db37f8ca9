import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  CircuitBreaker,
  isRetryableStatus,
  resolveBreaker,
  resolveRetry,
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
      expect(breaker.tryAcquire()).toBe(true);
      breaker.recordFailure();
    }
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.retryInMs()).toBe(10_000);
    clock.advance(10);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.recordSuccess();
    expect(breaker.tryAcquire()).toBe(true);
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
});
