/** A `fetch` the SDK can call: the global one, a proxy-aware one, or a test double. */
export type FetchLike = (input: Request, init?: RequestInit) => Promise<Response>;

/** The injectable clock: every time decision of the SDK is made on it. */
export type Clock = () => Date;

export const defaultClock: Clock = () => new Date();

export function resolveFetch(fetch: FetchLike | undefined, where: string): FetchLike {
  if (fetch !== undefined && typeof fetch !== 'function') {
    throw new TypeError(`${where}: \`fetch\` must be a function`);
  }
  // Runtimes before Node 18 have no global fetch.
  const globalFetch = (globalThis as { fetch?: FetchLike }).fetch;
  const resolved = fetch ?? globalFetch;
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
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    throw new TypeError(
      `${where}: \`${name}\` must be a ${allowZero ? 'non-negative' : 'positive'} number`,
    );
  }
  return value;
}

/** An optional whole-number option, at least `min` (default 1); `fallback` when left out. */
export function optionalInteger(
  value: unknown,
  name: string,
  where: string,
  fallback: number,
  min = 1,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new TypeError(`${where}: \`${name}\` must be an integer ≥ ${min}`);
  }
  return value;
}

export function optionalBoolean(
  value: unknown,
  name: string,
  where: string,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new OptionError(`${where}: \`${name}\` must be a boolean`, 'ERR_INVALID_OPTION', name);
  }
  return value;
}

/**
 * What the SDK throws for a bad option: a `TypeError`, as the factories promise, with a
 * machine-readable `code` (as Node's own errors have) and the `option` it is about, by name.
 * Never the option's value: it may be a secret.
 */
export class OptionError extends TypeError {
  /**
   * `ERR_UNKNOWN_OPTION` (a key no option has), `ERR_INSECURE_HTTP` (a plain-HTTP URL to a
   * host that is not loopback) or `ERR_INVALID_OPTION` (an option of the wrong type or form).
   */
  readonly code: 'ERR_UNKNOWN_OPTION' | 'ERR_INSECURE_HTTP' | 'ERR_INVALID_OPTION';
  /** The option, as a path from the options object: `scope`, `dpop.nonce.lifetimeSeconds`. */
  readonly option: string;
  /** For an unknown key: the known option it is most likely a typo of, as a path. */
  readonly suggestion: string | undefined;

  constructor(message: string, code: OptionError['code'], option: string, suggestion?: string) {
    super(message);
    this.code = code;
    this.option = option;
    this.suggestion = suggestion;
  }
}

type MissingKeys<T, K extends readonly PropertyKey[]> = Exclude<keyof T, K[number]>;

/**
 * The keys of an options interface `T`, as a list the run time can check against. The compiler
 * proves the list complete: a key of `T` left out is an error naming it (`'missing option
 * keys': "maxResponseBytes"`), and so is a key `T` does not have.
 *
 * @example
 * ```ts
 * const KEYS = optionKeys<RetryOptions>()(['maxAttempts', 'baseDelayMs', 'maxDelayMs']);
 * ```
 */
export function optionKeys<T extends object>() {
  return <const K extends readonly (keyof T & string)[]>(
    keys: K &
      ([MissingKeys<T, K>] extends [never]
        ? unknown
        : { readonly 'missing option keys': MissingKeys<T, K> }),
  ): readonly (keyof T & string)[] => Object.freeze([...keys]);
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** A key as an error message may show it: a name, never a long or unprintable string. */
function printable(key: string): string {
  const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
  return /^[\x21-\x7e]*$/.test(shown) && !shown.includes('`') ? shown : JSON.stringify(shown);
}

/** A key compared loosely: `DPoP`, `d_pop` and `dpop` are one. */
function loose(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '');
}

/** Length of the longest common subsequence: how much of two names lines up, in order. */
function commonSubsequence(a: string, b: string): number {
  let previous = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const row = [0];
    for (let j = 1; j <= b.length; j++) {
      row.push(a[i - 1] === b[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, row[j - 1]!));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * The known key `unknown` is most likely a typo of, compared without case, `_` and `-` (so
 * `DPoP` → `dpop`, `client_id` → `clientId`). A known key is a candidate when the two names
 * share most of their letters in order (`clientSecert`, `audiences`, `maxEntry`), when one
 * contains the other (`scopes` → `requiredScopes`, `fetchImpl` → `fetch`), or when the typed
 * name is an abbreviation of it (`tokenHint` → `tokenTypeHint`). The candidate sharing the most
 * with the typed name wins, the first listed on a tie. `undefined` when none is close.
 */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  const typed = loose(unknown);
  let best: string | undefined;
  let bestScore = 0;
  for (const candidate of known) {
    const name = loose(candidate);
    const shared = commonSubsequence(typed, name);
    const score = (2 * shared) / (typed.length + name.length);
    const contained =
      Math.min(typed.length, name.length) >= 3 && (name.includes(typed) || typed.includes(name));
    const abbreviation = typed.length >= 5 && shared === typed.length;
    if ((score >= 0.75 || contained || abbreviation) && score > bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Refuses `options` unless it is an object whose own enumerable keys are all in `known`: a
 * misspelt option would otherwise be ignored, and with it the check it was meant to switch on.
 * The error names the key and the closest known one, or lists the known ones; never a value. A
 * known key set to `undefined` is the same as leaving it out. `path` names a nested options
 * object (`dpop`, `retry`) in messages.
 */
export function rejectUnknownOptions<T>(
  options: T,
  known: readonly string[],
  where: string,
  path?: string,
): asserts options is T & object {
  const at = (key: string) => (path === undefined ? key : `${path}.${key}`);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const what = path === undefined ? 'options' : `\`${path}\``;
    throw new OptionError(
      `${where}: ${what} must be an object, not ${kindOf(options)}`,
      'ERR_INVALID_OPTION',
      path ?? '',
    );
  }
  for (const key of Reflect.ownKeys(options)) {
    if (!Object.prototype.propertyIsEnumerable.call(options, key)) continue;
    if (typeof key === 'string' && known.includes(key)) continue;
    const name = typeof key === 'string' ? printable(key) : printable(String(key));
    const suggestion = typeof key === 'string' ? closestKey(key, known) : undefined;
    const hint =
      suggestion === undefined
        ? `the ${path === undefined ? 'options' : `options of \`${path}\``} are ${known.join(', ')}`
        : `did you mean \`${at(suggestion)}\`?`;
    throw new OptionError(
      `${where}: unknown option \`${at(name)}\`; ${hint}`,
      'ERR_UNKNOWN_OPTION',
      at(name),
      suggestion === undefined ? undefined : at(suggestion),
    );
  }
}
