import { ClientAssertionError, NetworkError } from '../errors.js';
import {
  optionalInteger,
  optionKeys,
  rejectUnknownOptions,
  type Clock,
} from '../shared/options.js';
import { sleep } from '../shared/timers.js';

/**
 * How requests to the authorization server are retried: exponential backoff with full jitter
 * on network errors, 429 and 5xx; never on other 4xx answers.
 */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 3; 1 turns retries off. */
  maxAttempts?: number | undefined;
  /** The backoff base: attempt n waits a random time in [0, min(maxDelayMs, baseDelayMs · 2ⁿ)). Default 100. */
  baseDelayMs?: number | undefined;
  /** No single wait is longer; a `Retry-After` asking for more is not waited for. Default 5 000. */
  maxDelayMs?: number | undefined;
}

/** Every option of {@link RetryOptions}; the compiler keeps the list complete. */
const RETRY_OPTION_KEYS = optionKeys<RetryOptions>()(['maxAttempts', 'baseDelayMs', 'maxDelayMs']);

/**
 * The circuit breaker per endpoint: after `failureThreshold` failed requests in a row the
 * endpoint is left alone for at most `resetTimeoutMs`; then one probe decides whether it is
 * back. The open window never outlasts the cached token that callers fall back on: a caller
 * whose token is due for renewal may probe halfway between the opening and the token's expiry,
 * and a caller with no usable token once a second, so callers never go without a token for
 * longer than it takes the IdP to answer again.
 */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number | undefined;
  /**
   * The longest an open circuit refuses requests before one probe, in ms, while callers hold a
   * token with time to spare. Default 30 000.
   */
  resetTimeoutMs?: number | undefined;
}

/** Every option of {@link CircuitBreakerOptions}; the compiler keeps the list complete. */
const CIRCUIT_BREAKER_OPTION_KEYS = optionKeys<CircuitBreakerOptions>()([
  'failureThreshold',
  'resetTimeoutMs',
]);

/** The retry policy, checked, with its defaults. */
export type ResolvedRetry = ReturnType<typeof resolveRetry>;

/** The circuit breaker's options, checked, with their defaults. */
export type ResolvedBreaker = NonNullable<ReturnType<typeof resolveBreaker>>;

export function resolveRetry(value: RetryOptions | false | undefined, where: string) {
  if (value === false) return { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 };
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers in plain JavaScript can pass anything
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new TypeError(
      `${where}: \`retry\` must be false or { maxAttempts?, baseDelayMs?, maxDelayMs? }`,
    );
  }
  if (value !== undefined) rejectUnknownOptions(value, RETRY_OPTION_KEYS, where, 'retry');
  return {
    maxAttempts: optionalInteger(value?.maxAttempts, 'retry.maxAttempts', where, 3),
    baseDelayMs: optionalInteger(value?.baseDelayMs, 'retry.baseDelayMs', where, 100, 0),
    maxDelayMs: optionalInteger(value?.maxDelayMs, 'retry.maxDelayMs', where, 5_000, 0),
  };
}

export function resolveBreaker(value: CircuitBreakerOptions | false | undefined, where: string) {
  if (value === false) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers in plain JavaScript can pass anything
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new TypeError(
      `${where}: \`circuitBreaker\` must be false or { failureThreshold?, resetTimeoutMs? }`,
    );
  }
  if (value !== undefined)
    rejectUnknownOptions(value, CIRCUIT_BREAKER_OPTION_KEYS, where, 'circuitBreaker');
  return {
    failureThreshold: optionalInteger(
      value?.failureThreshold,
      'circuitBreaker.failureThreshold',
      where,
      5,
    ),
    resetTimeoutMs: optionalInteger(
      value?.resetTimeoutMs,
      'circuitBreaker.resetTimeoutMs',
      where,
      30_000,
      0,
    ),
  };
}

/** Whether an answer is worth another try: 429, 5xx (RFC 6749 errors other than those are final). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** `Retry-After` (RFC 9110 §10.2.3) as milliseconds from now: delta-seconds or an HTTP date. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Full-jitter backoff (a random wait up to the exponential cap) for retry number `retry` (0-based). */
export function backoffMs(retry: number, policy: ResolvedRetry, random = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(random() * cap);
}

/**
 * A retry budget (as gRPC's retry throttling): every failure spends a token, every success
 * earns a tenth of one back, and retries stop while fewer than half the tokens are left. A
 * struggling IdP thus sees at most a small multiple of the callers' own load.
 */
export class RetryBudget {
  #tokens: number;
  readonly #max: number;

  constructor(max = 10) {
    this.#tokens = max;
    this.#max = max;
  }

  recordSuccess(): void {
    this.#tokens = Math.min(this.#max, this.#tokens + 0.1);
  }

  recordFailure(): void {
    this.#tokens = Math.max(0, this.#tokens - 1);
  }

  get canRetry(): boolean {
    return this.#tokens > this.#max / 2;
  }
}

/**
 * While a caller has nothing usable to fall back on, an open circuit lets one probe through
 * this often (or every `resetTimeoutMs`, when that is shorter).
 */
export const MIN_PROBE_INTERVAL_MS = 1000;

interface OpenState {
  kind: 'open';
  openedAtMs: number;
  untilMs: number;
}

type CircuitState =
  { kind: 'closed'; failures: number } | OpenState | { kind: 'probing'; from: OpenState };

/**
 * The breaker of one endpoint, on the injected clock. Every decision takes `fallbackUntilMs`:
 * until when the caller can do without an answer (the expiry of the token it holds; `undefined`
 * when it holds none, `Infinity` for a token that does not expire).
 */
export class CircuitBreaker {
  #state: CircuitState = { kind: 'closed', failures: 0 };
  readonly #options: ResolvedBreaker;
  readonly #now: Clock;

  constructor(options: ResolvedBreaker, now: Clock) {
    this.#options = options;
    this.#now = now;
  }

  /**
   * When an open circuit lets this caller's probe through: after `resetTimeoutMs`, but never
   * later than halfway from the opening to the end of the caller's fallback (nor past that end),
   * and no more than once per {@link MIN_PROBE_INTERVAL_MS} when the caller has no fallback.
   */
  #probeAtMs(
    state: { openedAtMs: number; untilMs: number },
    fallbackUntilMs: number | undefined,
  ): number {
    const gapMs = Math.min(this.#options.resetTimeoutMs, MIN_PROBE_INTERVAL_MS);
    if (fallbackUntilMs === undefined || Number.isNaN(fallbackUntilMs)) {
      return Math.min(state.untilMs, state.openedAtMs + gapMs);
    }
    const halfwayMs = state.openedAtMs + (fallbackUntilMs - state.openedAtMs) / 2;
    return Math.min(state.untilMs, fallbackUntilMs, Math.max(state.openedAtMs + gapMs, halfwayMs));
  }

  /** Whether a request may go out now; an open circuit lets exactly one probe through at a time. */
  tryAcquire(fallbackUntilMs?: number): boolean {
    const state = this.#state;
    if (state.kind === 'closed') return true;
    if (state.kind === 'probing') return false;
    if (this.#now().getTime() < this.#probeAtMs(state, fallbackUntilMs)) return false;
    this.#state = { kind: 'probing', from: state };
    return true;
  }

  /**
   * Gives back a request that went out without an answer from the endpoint either way (it
   * failed before it was sent): a probe leaves the circuit open as it was, for the next one.
   */
  release(): void {
    const state = this.#state;
    if (state.kind === 'probing') this.#state = state.from;
  }

  recordSuccess(): void {
    this.#state = { kind: 'closed', failures: 0 };
  }

  recordFailure(): void {
    const state = this.#state;
    const failures = state.kind === 'closed' ? state.failures + 1 : this.#options.failureThreshold;
    const nowMs = this.#now().getTime();
    this.#state =
      failures >= this.#options.failureThreshold
        ? { kind: 'open', openedAtMs: nowMs, untilMs: nowMs + this.#options.resetTimeoutMs }
        : { kind: 'closed', failures };
  }

  /** Milliseconds until an open circuit allows this caller's probe (0 when closed or probing). */
  retryInMs(fallbackUntilMs?: number): number {
    const state = this.#state;
    if (state.kind !== 'open') return 0;
    return Math.max(0, this.#probeAtMs(state, fallbackUntilMs) - this.#now().getTime());
  }
}

/** What a caller of {@link Resilience.run} tells it besides the attempt. */
export interface RunOptions {
  /**
   * Until when (epoch ms, injected clock) the caller has a usable answer to fall back on, such
   * as the expiry of its cached token; `undefined` when it has none. An open circuit lets a
   * probe through early enough for it (see {@link CircuitBreaker}).
   */
  fallbackUntilMs?: number | undefined;
}

/**
 * Whether an attempt's error says something about the endpoint: a network error, a timeout, a
 * body that breaks the spec. A {@link ClientAssertionError} does not: the client could not get
 * its credential (a missing or expired assertion file, a CI token service refusing) before
 * anything was sent, so retrying at once would not help and the breaker must not open on it.
 */
export function isEndpointFailure(error: unknown): boolean {
  return !(error instanceof ClientAssertionError);
}

/** Per-instance state shared by every request of a client: budget and one breaker per endpoint. */
export class Resilience {
  readonly retry: ResolvedRetry;
  readonly #breakerOptions: ResolvedBreaker | undefined;
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #budget = new RetryBudget();
  readonly #now: Clock;

  constructor(retry: ResolvedRetry, breaker: ResolvedBreaker | undefined, now: Clock) {
    this.retry = retry;
    this.#breakerOptions = breaker;
    this.#now = now;
  }

  #breaker(endpoint: string): CircuitBreaker | undefined {
    if (!this.#breakerOptions) return undefined;
    let breaker = this.#breakers.get(endpoint);
    if (!breaker)
      this.#breakers.set(endpoint, (breaker = new CircuitBreaker(this.#breakerOptions, this.#now)));
    return breaker;
  }

  /**
   * Runs `attempt` (which must build a fresh request each time: DPoP proofs and client
   * assertions are single-use) until it succeeds, fails for good, or retries run out. An
   * attempt fails when it throws (a `NetworkError`, or a `ProtocolError` for a 2xx body that
   * breaks the spec, such as a maintenance page) or answers 429 or 5xx. An error that is not
   * the endpoint's ({@link isEndpointFailure}) is thrown at once, neither retried nor counted.
   * Returns the last answer; throws the last error. A circuit that refuses the first attempt throws a
   * `NetworkError` ("circuit open"); one that refuses a retry ends the run with the failure
   * that opened it.
   */
  async run<A extends { response: Response }>(
    endpoint: string,
    label: string,
    attempt: () => Promise<A>,
    { fallbackUntilMs }: RunOptions = {},
  ): Promise<A> {
    const breaker = this.#breaker(endpoint);
    let answer: A | undefined;
    let failure: unknown;
    for (let retry = 0; ; retry++) {
      if (breaker && !breaker.tryAcquire(fallbackUntilMs)) {
        if (retry > 0) {
          if (answer) return answer;
          throw failure;
        }
        throw new NetworkError(
          `the authorization server's ${label} failed repeatedly; not calling it for another ${Math.ceil(
            breaker.retryInMs(fallbackUntilMs) / 1000,
          )} s (circuit open)`,
          { circuit: 'open', endpoint },
          'circuit_open',
        );
      }
      answer = undefined;
      failure = undefined;
      try {
        answer = await attempt();
      } catch (error) {
        if (!isEndpointFailure(error)) {
          // Not the endpoint failing: neither retried nor counted against it.
          breaker?.release();
          throw error;
        }
        failure = error;
      }
      const failed = failure !== undefined || isRetryableStatus(answer?.response.status ?? 0);
      if (!failed) {
        breaker?.recordSuccess();
        this.#budget.recordSuccess();
        return answer!;
      }
      breaker?.recordFailure();
      this.#budget.recordFailure();
      const lastAttempt = retry + 1 >= this.retry.maxAttempts;
      let wait = backoffMs(retry, this.retry);
      const asked = answer
        ? retryAfterMs(answer.response.headers.get('retry-after'), this.#now().getTime())
        : undefined;
      if (asked !== undefined) wait = asked;
      if (lastAttempt || !this.#budget.canRetry || wait > this.retry.maxDelayMs) {
        if (answer) return answer;
        throw failure;
      }
      await sleep(wait);
    }
  }
}
