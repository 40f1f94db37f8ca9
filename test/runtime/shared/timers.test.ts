import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_DELAY_MS, scheduleTimeout, sleep } from '../../../src/runtime/shared/timers.js';

const DAY_MS = 86_400_000;

describe('scheduleTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never hands setTimeout a delay above 2^31−1 ms, and fires only once the whole delay has passed', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const callback = vi.fn();
    scheduleTimeout(callback, 30 * DAY_MS);
    for (const call of spy.mock.calls) expect(call[1]).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
    vi.advanceTimersByTime(1);
    expect(callback).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY_MS - 2);
    expect(callback).not.toHaveBeenCalled();
    for (const call of spy.mock.calls) expect(call[1]).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
    vi.advanceTimersByTime(1);
    expect(callback).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it('fires a short delay once, on time', () => {
    const callback = vi.fn();
    scheduleTimeout(callback, 50);
    vi.advanceTimersByTime(49);
    expect(callback).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('treats negative and NaN delays as zero', () => {
    const callback = vi.fn();
    scheduleTimeout(callback, -5);
    scheduleTimeout(callback, Number.NaN);
    vi.advanceTimersByTime(0);
    expect(callback).toHaveBeenCalledTimes(2);
  });

  it('does not fire once cancelled, even across a re-arm', () => {
    const callback = vi.fn();
    const timer = scheduleTimeout(callback, MAX_TIMER_DELAY_MS + 10);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 1);
    timer.cancel();
    vi.advanceTimersByTime(DAY_MS);
    expect(callback).not.toHaveBeenCalled();
  });
});

describe('sleep', () => {
  it('resolves after the delay', async () => {
    const started = Date.now();
    await sleep(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('rejects with the reason when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });

  it('rejects at once for a signal that already aborted', async () => {
    await expect(sleep(10, AbortSignal.abort(new Error('early')))).rejects.toThrow('early');
  });
});
