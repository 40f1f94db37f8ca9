import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from '../../generated/openapi.js';
import { AuthError, NetworkError, ProtocolError } from '../errors.js';
import { redact, type Secret } from '../shared/redact.js';
import { scheduleTimeout } from '../shared/timers.js';
import type { FetchLike } from '../shared/options.js';
import { formEncode, type FormValue } from '../shared/form.js';
import { describeFailure } from './network-failure.js';
import { requestSecrets } from './request-secrets.js';

/**
 * The typed openapi-fetch client over the generated paths of `openapi.yaml`, with the
 * transport policy every call through it follows.
 */
export type IdpClient = Client<paths> & {
  /** The most bytes of an answer's body the SDK reads; beyond it the call fails. */
  readonly maxResponseBytes: number;
};

/**
 * The default `maxResponseBytes`: 1 MiB. Discovery documents, key sets, token and
 * introspection answers of real servers are a few KiB; a key set of 1 MiB holds hundreds of keys.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576;

/** What one call to the authorization server needs besides its path and body. */
export interface IdpCall {
  client: IdpClient;
  /** The absolute URL the server published for this operation. */
  url: string;
  /** Human name of the endpoint, for error messages ("token endpoint"). */
  endpoint: string;
  timeoutMs: number;
  /**
   * Values to scrub from anything the server echoes into an error, besides those the request
   * itself carries (its `Authorization` and `DPoP` headers, and the credentials and tokens of
   * its form body, which are always scrubbed).
   */
  secrets?: readonly Secret[];
  signal?: AbortSignal | undefined;
}

/** The raw answer: status, headers and the body as text (parsed by `parseBody` in `idp-answer.ts`). */
export interface IdpAnswer {
  response: Response;
  text: string;
  /** Every secret the request carried, for `toOAuthError` to scrub from the answer. */
  secrets: readonly Secret[];
}

/**
 * Makes the openapi-fetch client. Paths in the spec are conventional; the transport middleware
 * points each request at the URL the server actually published, so the base URL is a
 * placeholder that is never contacted.
 */
export function createIdpClient(
  fetch: FetchLike,
  { maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES }: { maxResponseBytes?: number } = {},
): IdpClient {
  const client = createClient<paths>({
    baseUrl: 'https://authorization-server.invalid',
    fetch: (request) => fetch(request),
    bodySerializer: (body: unknown) => formEncode(body as Record<string, FormValue>),
  });
  return Object.assign(client, { maxResponseBytes });
}

/** What the transport middleware learnt of one exchange. */
interface ExchangeState {
  secrets: Secret[];
  text: string;
}

/**
 * The transport policy of every request to the authorization server, in one place:
 *
 * - the request goes to its discovered URL, with the call's abort signal;
 * - no redirect is ever followed (`redirect: 'manual'`, as jose and oauth4webapi do): a 3xx,
 *   an opaque redirect (browsers) or a response a custom `fetch` followed anyway is refused
 *   with a {@link ProtocolError} `redirect`. Following one would let another origin answer
 *   discovery (and so choose the keys tokens are verified with, RFC 8414 §6.2) or receive the
 *   client's credentials;
 * - the body is read here, before openapi-fetch parses it, as a stream counted against
 *   `maxResponseBytes`, and cancelled at the limit ({@link ProtocolError} `too_large`).
 */
function transportMiddleware(call: IdpCall, signal: AbortSignal, state: ExchangeState): Middleware {
  return {
    async onRequest({ request }) {
      const body =
        request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text();
      state.secrets = requestSecrets(request.headers, body);
      return new Request(call.url, {
        method: request.method,
        headers: request.headers,
        body,
        signal,
        redirect: 'manual',
      });
    },
    async onResponse({ response }) {
      refuseRedirect(response, call, state.secrets);
      state.text = await readBody(response, call, signal);
      // openapi-fetch reads this empty copy; the text read under the limit is in `state`.
      return new Response(null, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    },
  };
}

/** The redirect target is the server's text: its path is scrubbed like an error description. */
function refuseRedirect(response: Response, call: IdpCall, secrets: Secret[]): void {
  const asked = new URL(call.url);
  asked.hash = '';
  const followed = response.redirected || (response.url !== '' && response.url !== asked.href);
  const redirect =
    response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);
  if (!redirect && !followed) return;
  void response.body?.cancel().catch(() => undefined);
  const location = response.headers.get('location');
  const target = followed
    ? ` and the fetch followed it to ${redact(safeUrl(response.url), secrets)}`
    : location
      ? ` to ${redact(safeUrl(location, asked.href), secrets)}`
      : '';
  const status =
    response.type === 'opaqueredirect'
      ? 'a redirect'
      : `HTTP ${followed ? 'redirect' : response.status}`;
  throw new ProtocolError(
    `${where(call)} answered ${status}${target}; redirects are refused: configure the final URL if it is the right one`,
    { status: response.status, url: safeUrl(call.url) },
    'redirect',
  );
}

function tooLarge(call: IdpCall, found: string): ProtocolError {
  const limit = call.client.maxResponseBytes;
  return new ProtocolError(
    `${where(call)} sent ${found}, over maxResponseBytes (${limit}); not read further`,
    { limit, url: safeUrl(call.url) },
    'too_large',
  );
}

/**
 * Reads the body as a stream, counting bytes, and cancels it as soon as it passes the limit
 * (or before reading, when `Content-Length` already says so). The deadline's signal cancels
 * the read too, for a `fetch` that does not tie the body to the request's signal.
 */
async function readBody(response: Response, call: IdpCall, signal: AbortSignal): Promise<string> {
  const { body } = response;
  if (body === null) return '';
  const limit = call.client.maxResponseBytes;
  const declared = response.headers.get('content-length')?.trim();
  if (declared && /^\d+$/.test(declared) && Number(declared) > limit) {
    void body.cancel().catch(() => undefined);
    throw tooLarge(call, `${declared} bytes (Content-Length)`);
  }
  const reader = body.getReader();
  const cancel = () => void reader.cancel(signal.reason).catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw signal.reason;
      if (done) return text + decoder.decode();
      size += value.byteLength;
      if (size > limit) {
        void reader.cancel().catch(() => undefined);
        throw tooLarge(call, `more than ${limit} bytes`);
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

/**
 * An abort signal that fires after `timeoutMs` or when the caller's signal does, and a
 * `dispose` to call once the body is read. A strongly held controller and timer, because
 * Node may collect an `AbortSignal.timeout` combined through `AbortSignal.any` while the
 * request still waits, and the timeout would then never fire.
 */
function deadline(call: IdpCall): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = scheduleTimeout(
    () =>
      controller.abort(new DOMException(`timed out after ${call.timeoutMs} ms`, 'TimeoutError')),
    call.timeoutMs,
  );
  const outer = call.signal;
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener('abort', forward, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      timer.cancel();
      outer?.removeEventListener('abort', forward);
    },
  };
}

/** "the authorization server's token endpoint (https://idp.example/token)". */
export function where(call: IdpCall): string {
  return `the authorization server's ${call.endpoint} (${safeUrl(call.url)})`;
}

/** The URL without query or fragment: enough to find the endpoint, nothing that could be a secret. */
export function safeUrl(url: string, base?: string): string {
  try {
    const { origin, pathname } = new URL(url, base);
    return `${origin}${pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

type Send = (middleware: Middleware[]) => Promise<{ response: Response }>;

/**
 * Sends one request through openapi-fetch under the transport policy (no redirects, a byte
 * limit on the body, a deadline) and reads the answer as text. Transport failures (refused,
 * reset, timed out, aborted, a body cut short) become {@link NetworkError}; a redirect or an
 * oversized body, {@link ProtocolError}.
 */
export async function exchange(call: IdpCall, send: Send): Promise<IdpAnswer> {
  const { signal, dispose } = deadline(call);
  const state: ExchangeState = { secrets: [], text: '' };
  try {
    const { response } = await send([transportMiddleware(call, signal, state)]);
    return { response, text: state.text, secrets: [...(call.secrets ?? []), ...state.secrets] };
  } catch (error) {
    if (error instanceof AuthError) throw error;
    const abortedByCaller = call.signal?.aborted === true;
    const reason: unknown = abortedByCaller
      ? new DOMException('aborted', 'AbortError')
      : signal.aborted
        ? signal.reason
        : error;
    const { message, code } = describeFailure(reason, where(call), call.timeoutMs);
    throw new NetworkError(message, error, code);
  } finally {
    dispose();
  }
}
