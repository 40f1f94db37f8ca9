/**
 * One load run with autocannon against a route on 127.0.0.1: a fixed number of connections,
 * each sending its next request as soon as the last one is answered, for a bounded time (or a
 * fixed number of requests, in a smoke run).
 *
 * Requests are built before the run, never during it: autocannon's `setupRequest`, which builds
 * each request as it goes, costs the load generator about a third of its throughput, enough to
 * make it, not the server, the limit for an unguarded route. One set of headers is sent by
 * every request; a list of one-use headers (DPoP proofs, whose `jti` a server refuses to see
 * twice, or tokens meant to be new) is cut into one slice per connection, each connection sends
 * its slice in order and never more than it (`maxConnectionRequests`), and the run stops as soon
 * as one connection is near the end of its slice. Its rate is still the answered requests over
 * the time it ran, from autocannon's `start` (the requests are built) to its end.
 *
 * The latencies are kept at the resolution autocannon measures them; its own histogram rounds to
 * whole milliseconds, too coarse for a p99 of a few.
 */
import autocannon from 'autocannon';
import { median } from './harness.js';

export interface LoadOptions {
  url: string;
  /** One entry: every request sends it. More: each is sent once. */
  headers: readonly Record<string, string>[];
  /**
   * One-use headers left unsent per connection when the run is told to stop: autocannon stops at
   * its next sample (up to 100 ms later), and the connections keep sending until then.
   */
  reservePerConnection?: number;
  connections: number;
  /** How long the run lasts, in seconds; or `amount`, an exact number of requests. */
  seconds?: number;
  amount?: number;
}

export interface LoadResult {
  /** Answered requests per second (2xx only; any other answer fails the run). */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  seconds: number;
  /** The run stopped before its time because a connection was near the end of its slice. */
  stoppedEarly: boolean;
  /** Answers other than 2xx, and connection errors, timeouts: anything but 0 is a broken run. */
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export function drive(options: LoadOptions): Promise<LoadResult> {
  const { headers, connections } = options;
  const oneUse = headers.length > 1;
  const slice = Math.floor(headers.length / connections);
  const stopAt = slice - (options.reservePerConnection ?? 4);
  if (oneUse && stopAt < 1)
    throw new Error(`load run: ${headers.length} one-use requests is too few`);
  if (oneUse && options.amount !== undefined && options.amount > stopAt * connections)
    throw new Error(
      `load run: ${headers.length} one-use requests is too few for ${options.amount}`,
    );

  let nextSlice = 0;
  const answeredBy = new Map<unknown, number>();
  let stoppedEarly = false;
  let latencies = new Float64Array(65_536);
  let answered = 0;
  let started = process.hrtime.bigint();

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections,
        // A stop takes effect at the next sample: sampling often keeps runs to their time.
        sampleInt: options.amount === undefined ? 100 : 10,
        ...(options.amount === undefined
          ? { duration: options.seconds ?? 1 }
          : { amount: options.amount }),
        ...(oneUse
          ? {
              maxConnectionRequests: slice,
              setupClient(client: autocannon.Client) {
                const from = nextSlice++ * slice;
                client.setRequests(
                  headers
                    .slice(from, from + slice)
                    .map((entry) => ({ method: 'GET', headers: entry })),
                );
              },
            }
          : { headers: headers[0] }),
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
          return;
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const sorted = latencies.subarray(0, answered).sort();
        const statusCodes = Object.fromEntries(
          Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [
            code,
            stats?.count ?? 0,
          ]),
        );
        resolve({
          rate: answered / seconds,
          p50Ms: percentile(sorted, 0.5),
          p99Ms: percentile(sorted, 0.99),
          requests: answered,
          seconds,
          stoppedEarly,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          statusCodes,
        });
      },
    );
    // Emitted once every connection has its requests built.
    instance.on('start', () => {
      started = process.hrtime.bigint();
    });
    instance.on('response', (client, statusCode, _bytes, responseTime) => {
      if (oneUse) {
        const count = (answeredBy.get(client) ?? 0) + 1;
        answeredBy.set(client, count);
        if (count >= stopAt && !stoppedEarly && options.amount === undefined) {
          stoppedEarly = true;
          instance.stop();
        }
      }
      if (statusCode < 200 || statusCode >= 300) return;
      if (answered === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[answered++] = responseTime;
    });
  });
}

/** The median of per-round values, and their lowest and highest. */
export function summarise(values: readonly number[]): { median: number; range: [number, number] } {
  return { median: median(values), range: [Math.min(...values), Math.max(...values)] };
}
