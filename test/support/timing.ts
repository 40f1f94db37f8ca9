/**
 * Helpers for tests about time: a deadline for promises that must settle, and a forced garbage
 * collection (timers held only weakly can vanish in one, which a test must be able to provoke).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** What {@link settleWithin} returns when the promise has not settled in time. */
export const STILL_PENDING = 'still pending at the deadline';

/** The promise's value or rejection reason, or {@link STILL_PENDING} after `ms`. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${STILL_PENDING} (${ms} ms)`), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => value,
        (reason: unknown) => reason,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a full garbage collection now, as memory pressure in a long-running service would. */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
}
