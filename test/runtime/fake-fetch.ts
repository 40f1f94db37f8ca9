import type { FetchLike } from '../../src/runtime/shared/options.js';

/** A request the fake saw, with its form body already decoded. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  form: URLSearchParams;
}

type Responder = (request: SeenRequest, index: number) => Response | Promise<Response>;

/**
 * An injected `fetch` for unit tests: records every request and answers with `respond`.
 * Discovery is not involved: tests give the client a `tokenEndpoint`.
 */
export function fakeFetch(respond: Responder): FetchLike & { seen: SeenRequest[] } {
  const seen: SeenRequest[] = [];
  const fetch = async (input: Request) => {
    const request = input instanceof Request ? input : new Request(input);
    const text = request.method === 'GET' ? '' : await request.text();
    const entry: SeenRequest = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      form: new URLSearchParams(text),
    };
    seen.push(entry);
    return respond(entry, seen.length - 1);
  };
  return Object.assign(fetch, { seen });
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** A controllable clock for `now`. */
export function manualClock(start = Date.UTC(2026, 10, 23, 12, 0, 0)) {
  let current = start;
  return {
    now: () => new Date(current),
    advance(seconds: number) {
      current += seconds * 1000;
    },
  };
}
