/** A `fetch` the SDK can call: the global one, a proxy-aware one, or a test double. */
export type FetchLike = (input: Request, init?: RequestInit) => Promise<Response>;

/** The injectable clock: every time decision of the SDK is made on it. */
export type Clock = () => Date;

export const defaultClock: Clock = () => new Date();

export function resolveFetch(fetch: FetchLike | undefined, where: string): FetchLike {
  if (fetch !== undefined && typeof fetch !== 'function') {
    throw new TypeError(`${where}: \`fetch\` must be a function`);
  }
  const resolved = fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (!resolved) throw new TypeError(`${where}: no global fetch; pass the \`fetch\` option`);
  return resolved;
}

export function resolveClock(now: Clock | undefined, where: string): Clock {
  if (now !== undefined && typeof now !== 'function') {
    throw new TypeError(`${where}: \`now\` must be a function returning a Date`);
  }
  return now ?? defaultClock;
}

/** Seconds since the epoch on the injected clock. */
export function epochSeconds(now: Clock): number {
  return Math.floor(now().getTime() / 1000);
}

export function requireString(value: unknown, name: string, where: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${where}: \`${name}\` must be a non-empty string`);
  }
  return value;
}

export function optionalPositiveNumber(
  value: unknown,
  name: string,
  where: string,
  fallback: number,
  { allowZero = false } = {},
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(`${where}: \`${name}\` must be a ${allowZero ? 'non-negative' : 'positive'} number`);
  }
  return value;
}

/** An absolute http(s) URL, for issuers and endpoint overrides. */
export function requireHttpUrl(value: unknown, name: string, where: string): string {
  const text = requireString(value, name, where);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`${where}: \`${name}\` must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`${where}: \`${name}\` must be an absolute http(s) URL`);
  }
  if (url.username || url.password) {
    throw new TypeError(`${where}: \`${name}\` must not carry credentials`);
  }
  return text;
}
