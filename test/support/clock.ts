/** A clock tests move by hand, for the SDK's `now` option. */
export interface ManualClock {
  now: () => Date;
  /** Epoch seconds of the current time. */
  seconds(): number;
  /** Sets the time (epoch seconds). */
  setSeconds(seconds: number): void;
  /** Moves the time forward by `seconds`. */
  advance(seconds: number): void;
}

export function manualClock(start: Date = new Date()): ManualClock {
  let ms = start.getTime();
  return {
    now: () => new Date(ms),
    seconds: () => Math.floor(ms / 1000),
    setSeconds(seconds) {
      ms = seconds * 1000;
    },
    advance(seconds) {
      ms += seconds * 1000;
    },
  };
}
