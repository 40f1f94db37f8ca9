/**
 * Timers whose delay may come from data the SDK does not control (an IdP's `expires_in`, a
 * store's TTL). `setTimeout` takes at most 2^31−1 ms (about 24.8 days); Node, browsers and
 * workerd turn a longer delay into 1 ms, which would make a long-lived token refresh in a
 * tight loop. These helpers clamp every delay and re-arm until the full delay has passed.
 */

/** The longest delay `setTimeout` honours, in milliseconds. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** A scheduled call that can be cancelled. */
export interface Timer {
  cancel(): void;
}

/**
 * Calls `callback` once, after `delayMs` (clamped to `[0, ∞)`; `NaN` counts as 0). Delays
 * longer than {@link MAX_TIMER_DELAY_MS} are waited out in steps. With `unref`, the timer does
 * not keep a Node process alive.
 */
export function scheduleTimeout(
  callback: () => void,
  delayMs: number,
  { unref = false } = {},
): Timer {
  let remaining = Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs);
  let handle: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  const arm = () => {
    const step = Math.min(remaining, MAX_TIMER_DELAY_MS);
    remaining -= step;
    handle = setTimeout(() => {
      handle = undefined;
      if (cancelled) return;
      if (remaining > 0) arm();
      else callback();
    }, step);
    if (unref) (handle as { unref?: () => void }).unref?.();
  };
  arm();
  return {
    cancel() {
      cancelled = true;
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    },
  };
}

/**
 * Resolves after `delayMs`, or rejects with the signal's reason as soon as `signal` aborts.
 */
export function sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as unknown);
      return;
    }
    const onAbort = () => {
      timer.cancel();
      reject(signal?.reason as unknown);
    };
    const timer = scheduleTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
