import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from '../../generated/openapi.js';
import { NetworkError, OAuthError, ProtocolError } from '../errors.js';
import { redact } from '../shared/redact.js';
import { validate, type Schema } from '../shared/validate.js';
import type { FetchLike } from '../shared/options.js';
import { formEncode, type FormValue } from './form.js';

/** The typed openapi-fetch client over the generated paths of `openapi.yaml`. */
export type IdpClient = Client<paths>;

/** What one call to the authorization server needs besides its path and body. */
export interface IdpCall {
  client: IdpClient;
  /** The absolute URL the server published for this operation. */
  url: string;
  /** Human name of the endpoint, for error messages ("token endpoint"). */
  endpoint: string;
  timeoutMs: number;
  /** Values to scrub from anything the server echoes into an error message. */
  secrets?: ReadonlyArray<string | undefined>;
  signal?: AbortSignal | undefined;
}

/** The raw answer: status, headers and the body as text (parsed by {@link parseBody}). */
export interface IdpAnswer {
  response: Response;
  text: string;
}

/**
 * Makes the openapi-fetch client. Paths in the spec are conventional; {@link endpointMiddleware}
 * points each request at the URL the server actually published, so the base URL is a
 * placeholder that is never contacted.
 */
export function createIdpClient(fetch: FetchLike): IdpClient {
  return createClient<paths>({
    baseUrl: 'https://authorization-server.invalid',
    fetch: (request) => fetch(request),
    bodySerializer: (body: unknown) => formEncode(body as Record<string, FormValue>),
  });
}

/**
 * Points a request at its discovered URL with the call's abort signal. Credential-carrying
 * POSTs never follow redirects, so a secret cannot be replayed to another location.
 */
function endpointMiddleware(url: string, signal: AbortSignal): Middleware {
  return {
    async onRequest({ request }) {
      const body = request.method === 'GET' ? undefined : await request.text();
      return new Request(url, {
        method: request.method,
        headers: request.headers,
        body,
        signal,
        redirect: request.method === 'GET' ? 'follow' : 'manual',
      });
    },
  };
}

/**
 * An abort signal that fires after `timeoutMs` or when the caller's signal does, and a
 * `dispose` to call once the body is read. A strongly held controller and timer, because
 * Node may collect an `AbortSignal.timeout` combined through `AbortSignal.any` while the
 * request still waits, and the timeout would then never fire.
 */
function deadline(call: IdpCall): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`timed out after ${call.timeoutMs} ms`, 'TimeoutError')),
    call.timeoutMs,
  );
  const outer = call.signal;
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener('abort', forward, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    },
  };
}

/** Describes a fetch failure in words a person can act on, without echoing the request. */
function describeFailure(error: unknown, call: IdpCall): string {
  const target = `the authorization server's ${call.endpoint} (${safeUrl(call.url)})`;
  const name = error instanceof Error || error instanceof DOMException ? error.name : '';
  if (name === 'TimeoutError') return `${target} did not answer within ${call.timeoutMs} ms`;
  if (name === 'AbortError') return `the request to ${target} was aborted`;
  const code = errorCode(error);
  const hint =
    code === 'ECONNREFUSED'
      ? 'connection refused: is the server running and the port right?'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host name not found'
        : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
          ? 'connection closed by the server'
          : code
            ? code
            : 'request failed';
  return `could not reach ${target}: ${hint}`;
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The URL without query or fragment: enough to find the endpoint, nothing that could be a secret. */
function safeUrl(url: string): string {
  try {
    const { origin, pathname } = new URL(url);
    return `${origin}${pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

type Send = (middleware: Middleware[]) => Promise<{ response: Response; data?: unknown; error?: unknown }>;

/**
 * Sends one request through openapi-fetch and reads the answer as text. Transport failures
 * (refused, reset, timed out, aborted, a body cut short) become {@link NetworkError}.
 */
export async function exchange(call: IdpCall, send: Send): Promise<IdpAnswer> {
  const { signal, dispose } = deadline(call);
  try {
    const { response, data, error } = await send([endpointMiddleware(call.url, signal)]);
    const body = response.ok ? data : error;
    const text = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
    return { response, text };
  } catch (error) {
    const abortedByCaller = call.signal?.aborted === true;
    const reason = abortedByCaller ? new DOMException('aborted', 'AbortError') : signal.aborted ? signal.reason : error;
    throw new NetworkError(describeFailure(reason, call), error);
  } finally {
    dispose();
  }
}

/**
 * Validates a 2xx body against a schema generated from `openapi.yaml`. Anything else is a
 * {@link ProtocolError} whose cause lists the problems but never the values (they may hold tokens).
 */
export function parseBody<T>(answer: IdpAnswer, schema: Schema<T>, call: IdpCall): T {
  const where = `the authorization server's ${call.endpoint}`;
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    const type = answer.response.headers.get('content-type') ?? 'no content type';
    throw new ProtocolError(`${where} answered HTTP ${answer.response.status} with a body that is not JSON`, {
      contentType: type,
      length: answer.text.length,
    });
  }
  const result = validate(schema, json);
  if (!result.ok) {
    const issues = result.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(root)',
      code: issue.code,
      message: issue.message,
    }));
    const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new ProtocolError(`${where} answered with a body that breaks the spec (${summary})`, issues);
  }
  return result.value;
}

const statusCodes: Record<number, string> = { 401: 'invalid_client', 429: 'temporarily_unavailable', 503: 'temporarily_unavailable' };

/** Maps a non-2xx answer to an {@link OAuthError}, using the RFC 6749 §5.2 body when there is one. */
export function toOAuthError(answer: IdpAnswer, call: IdpCall): OAuthError {
  const { status } = answer.response;
  let code: string | undefined;
  let description: string | undefined;
  try {
    const body: unknown = JSON.parse(answer.text);
    if (body && typeof body === 'object') {
      const { error, error_description } = body as Record<string, unknown>;
      if (typeof error === 'string' && error.length > 0) code = redact(error, call.secrets ?? [], 64);
      if (typeof error_description === 'string') description = redact(error_description, call.secrets ?? []);
    }
  } catch {
    // Not an OAuth error body; the status speaks for itself below.
  }
  if (code === undefined) {
    code = statusCodes[status] ?? (status >= 500 ? 'server_error' : 'invalid_request');
    description ??= `HTTP ${status} without an OAuth error body`;
  }
  return new OAuthError({
    status,
    code,
    endpoint: `${call.endpoint} ${safeUrl(call.url)}`,
    ...(description === undefined ? {} : { description }),
  });
}
