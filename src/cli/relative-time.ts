const units: readonly (readonly [string, number])[] = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];

/** A duration in its two largest units: `4m 10s`, `2h`, `3d 1h`, `0s`. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.round(Math.abs(totalSeconds));
  const index = units.findIndex(([, size]) => seconds >= size);
  const first = units[index];
  if (!first) return '0s';
  const amount = Math.floor(seconds / first[1]);
  const next = units[index + 1];
  const nextAmount = next ? Math.floor((seconds - amount * first[1]) / next[1]) : 0;
  return next && nextAmount > 0
    ? `${amount}${first[0]} ${nextAmount}${next[0]}`
    : `${amount}${first[0]}`;
}

/** `in 4m 10s` for the future, `3m ago` for the past, `now` within a second. */
export function relativeTo(epochSeconds: number, now: Date): string {
  const delta = epochSeconds - now.getTime() / 1000;
  if (Math.abs(delta) < 1) return 'now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`;
}

/** `2026-05-01 12:00:00 UTC` for an epoch-seconds claim. */
export function humanTime(epochSeconds: number): string {
  const iso = new Date(epochSeconds * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}
