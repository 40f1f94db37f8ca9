import { describe, expect, it } from 'vitest';
import { formatDuration, humanTime, relativeTo } from '../../src/cli/relative-time.js';

describe('relative times in decode output', () => {
  it.each([
    [0, '0s'],
    [59, '59s'],
    [60, '1m'],
    [250, '4m 10s'],
    [3_600, '1h'],
    [3_605, '1h'],
    [3_661, '1h 1m'],
    [90_061, '1d 1h'],
    [-185, '3m 5s'],
  ])('shows %i seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('says "in" for the future, "ago" for the past and "now" within a second', () => {
    const now = new Date('2026-05-01T12:00:00.000Z');
    const epoch = now.getTime() / 1000;
    expect(relativeTo(epoch + 250, now)).toBe('in 4m 10s');
    expect(relativeTo(epoch - 180, now)).toBe('3m ago');
    expect(relativeTo(epoch, now)).toBe('now');
  });

  it('prints epoch seconds as a UTC time', () => {
    expect(humanTime(1_777_636_800)).toBe('2026-05-01 12:00:00 UTC');
  });
});
