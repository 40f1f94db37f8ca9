import type { Clock } from '../shared/options.js';
import { scheduleTimeout, type Timer } from '../shared/timers.js';
import type { TokenTarget } from './cache-key.js';

/** Background refreshes of tokens callers use, `refreshAheadSeconds` before they are due. */
export interface RefreshAhead {
  /** A caller used the token of `key` at `nowMs`: it is worth refreshing ahead. */
  used(key: string, nowMs: number): void;
  /** A token for `target` arrived that is due at `refreshAtMs`: arm its timer. */
  schedule(target: TokenTarget, refreshAtMs: number): void;
  /** Cancels every timer. */
  close(): void;
}

/** Refresh-ahead bookkeeping per slot: its timer and when a caller last used the token. */
interface AheadState {
  timer: Timer | undefined;
  usedAtMs: number;
}

/** Refresh ahead switched off: nothing is scheduled, so there is nothing to do. */
const off: RefreshAhead = {
  used() {
    // Nothing scheduled.
  },
  schedule() {
    // Nothing scheduled.
  },
  close() {
    // Nothing scheduled.
  },
};

/**
 * Refresh-ahead: a timer per slot, refreshing only a token some caller used since it arrived;
 * `refresh` does the work (and reschedules through {@link RefreshAhead.schedule}). The delay
 * comes from the IdP's `expires_in`: `scheduleTimeout` waits out delays longer than
 * `setTimeout` can hold (about 24.8 days) instead of firing at once. Timers never keep the
 * process alive. `refreshAheadMs` `undefined`: off.
 */
export function createRefreshAhead(
  refreshAheadMs: number | undefined,
  now: Clock,
  refresh: (target: TokenTarget) => void,
): RefreshAhead {
  if (refreshAheadMs === undefined) return off;
  const ahead = new Map<string, AheadState>();
  return {
    used(key, nowMs) {
      const state = ahead.get(key);
      if (state) state.usedAtMs = nowMs;
    },
    schedule(target, refreshAtMs) {
      if (!Number.isFinite(refreshAtMs)) return;
      ahead.get(target.key)?.timer?.cancel();
      const fetchedAtMs = now().getTime();
      const state: AheadState = { timer: undefined, usedAtMs: -Infinity };
      const delay = Math.max(0, refreshAtMs - refreshAheadMs - fetchedAtMs);
      state.timer = scheduleTimeout(
        () => {
          state.timer = undefined;
          if (state.usedAtMs >= fetchedAtMs) refresh(target);
          else ahead.delete(target.key);
        },
        delay,
        { unref: true },
      );
      ahead.set(target.key, state);
    },
    close() {
      for (const state of ahead.values()) state.timer?.cancel();
      ahead.clear();
    },
  };
}
