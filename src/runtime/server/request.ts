import { clientCertificateFromHeader, type ClientCertificate } from './certificate-binding.js';
import type { ChallengeScheme } from './www-authenticate.js';
import { reject } from './rejection.js';

/**
 * A request as {@link ResourceServer.verifyRequest} reads it: a Fetch API `Request`, or any
 * object with the method, the absolute URL the client called, and the headers, either as a
 * `Headers` object or as a plain record such as Node's `IncomingHttpHeaders` (names matched
 * without regard to case). The URL must be absolute for a DPoP proof's `htu` to be checked.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 * @example
 * ```ts
 * // Node's http server: rebuild the public URL the client used.
 * const claims = await server.verifyRequest({
 *   method: req.method ?? 'GET',
 *   url: new URL(req.url ?? '/', 'https://api.example.com').href,
 *   headers: req.headers,
 * });
 * ```
 */
export interface RequestLike {
  /** The HTTP method, compared with the proof's `htm`. */
  method: string;
  /** The absolute URL the client called, compared with the proof's `htu` after normalisation. */
  url: string;
  /** The request headers: `Authorization` and `DPoP` are read. */
  headers: HeadersLike;
  /**
   * The client certificate of the TLS connection the request came on, as `requestFromNode`
   * reads it from the socket; the `clientCertificate` option of `verifyRequest` takes
   * precedence. Default: none.
   *
   * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
   */
  clientCertificate?: ClientCertificate | undefined;
  /**
   * `'client-cert'`: the client certificate is the one a TLS-terminating proxy forwarded in the
   * RFC 9440 `Client-Cert` header of this request, read when the request is verified (in place
   * of `clientCertificate`; the `clientCertificate` option of `verifyRequest` still takes
   * precedence). A header that is not one DER certificate, or sent more than once, is refused
   * with reason `certificate`. Set by `requestFromNode` with its option of the same name; only
   * for a proxy you run that strips any `Client-Cert` the client sent. Default: not read.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9440#section-2.2
   */
  clientCertificateHeader?: 'client-cert' | undefined;
}

/**
 * Request headers as {@link RequestLike} carries them: a Fetch API `Headers` object (anything
 * with `get(name)`), or a record of values such as Node's `IncomingHttpHeaders`, where a header
 * sent several times is an array. Names in a record are matched without regard to case. A
 * credential header that arrived more than once is refused (RFC 9449 §4.3 check 1).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 * @example
 * ```ts
 * const headers: HeadersLike = { authorization: `DPoP ${token}`, dpop: proof };
 * await server.verifyRequest({ method: 'GET', url: 'https://api.example.com/orders', headers });
 * ```
 */
export type HeadersLike =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The parts of a request the verification needs. */
export interface RequestParts {
  method: string;
  url: string;
  headers: HeadersLike;
  clientCertificate: ClientCertificate | undefined;
}

/** Header values that arrived more than once. */
export const SEVERAL = Symbol('several values');

/** Methods that the Fetch standard upper-cases when a `Request` is made (Fetch §2.2.1). */
const normalisedMethods = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

export function readRequest(request: unknown): RequestParts {
  if (typeof request !== 'object' || request === null) {
    reject('missing', 'no request', { error: null });
  }
  const { method, url, headers, clientCertificate, clientCertificateHeader } =
    request as Partial<RequestLike>;
  if (
    typeof method !== 'string' ||
    typeof url !== 'string' ||
    typeof headers !== 'object' ||
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers in plain JavaScript can pass anything
    headers === null
  ) {
    reject('malformed', 'the request lacks a method, URL or headers');
  }
  if (
    clientCertificateHeader !== undefined &&
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers in plain JavaScript can pass anything
    clientCertificateHeader !== CLIENT_CERTIFICATE_HEADER
  ) {
    // A programming error, not the client's: a fault, answered 500.
    throw new TypeError(
      "verifyRequest: a request's `clientCertificateHeader` must be 'client-cert'",
    );
  }
  const upper = method.toUpperCase();
  return {
    method: normalisedMethods.has(upper) ? upper : method,
    url,
    headers,
    clientCertificate:
      clientCertificateHeader === undefined ? clientCertificate : forwardedCertificate(headers),
  };
}

/** The header a trusted proxy forwards the client certificate in (RFC 9440 §2.2). */
export const CLIENT_CERTIFICATE_HEADER = 'client-cert';

/**
 * The certificate a trusted proxy forwarded in `Client-Cert`: `undefined` when the header is
 * absent; a header sent more than once or not one DER certificate is refused (reason
 * `certificate`), as a server `Rejection`.
 */
export function forwardedCertificate(headers: HeadersLike): Uint8Array | undefined {
  const value = readHeader(headers, CLIENT_CERTIFICATE_HEADER);
  if (value === SEVERAL) {
    reject('certificate', 'the client certificate could not be read', {
      detail: 'the Client-Cert header came more than once',
    });
  }
  return clientCertificateFromHeader(value);
}

/** One header's value: `undefined` when absent, {@link SEVERAL} when it was sent more than once. */
export function readHeader(
  headers: HeadersLike,
  name: string,
): string | undefined | typeof SEVERAL {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(name: string): string | null }).get(name);
    return typeof value === 'string' ? value : undefined;
  }
  const record = headers as Readonly<Record<string, unknown>>;
  let found: string | undefined | typeof SEVERAL;
  for (const key of Object.keys(record)) {
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    const value = record[key];
    if (value === undefined) continue;
    const one: unknown = Array.isArray(value) ? (value.length === 1 ? value[0] : SEVERAL) : value;
    if (one === SEVERAL || found !== undefined) return SEVERAL;
    if (typeof one !== 'string') return SEVERAL;
    found = one;
  }
  return found;
}

/**
 * Several `Authorization` lines, or several credentials in one: which one counts would depend
 * on the server, the framework or a proxy (Node keeps the first line, others the last), so
 * none does. RFC 6750 §3.1: a request that "uses more than one method for including an access
 * token" is `invalid_request`, answered 400.
 */
function refuseSeveral(): never {
  return reject(
    'duplicate_credentials',
    'the request carries more than one Authorization credential',
    {
      error: 'invalid_request',
    },
  );
}

/** A credential of a scheme this server reads, at the start of a (comma-separated) part. */
const ourScheme = /^[ \t]*(?:bearer|dpop)(?:[ \t]|$)/i;

/** `b64token` of RFC 6750 §2.1, the syntax of a Bearer or DPoP token in `Authorization`. */
export const b64token = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The credentials of an `Authorization` header (RFC 6750 §2.1, RFC 9449 §7.1). */
export interface Credentials {
  scheme: ChallengeScheme;
  token: string;
}

/**
 * Reads `Authorization: Bearer <token>` or `Authorization: DPoP <token>` (scheme names are
 * case-insensitive, RFC 9110 §11.1). No header, or another scheme, counts as no credentials.
 */
export function readCredentials(headers: HeadersLike, maxTokenLength: number): Credentials {
  const value = readHeader(headers, 'authorization');
  if (value === SEVERAL) refuseSeveral();
  if (value === undefined) reject('missing', 'no access token', { error: null });
  // A b64token has no comma: a Bearer or DPoP credential beside a comma is one of several
  // folded into one value, as Fetch and most proxies join repeated lines (RFC 9110 §5.3).
  if (value.includes(',') && value.split(',').some((part) => ourScheme.test(part))) {
    refuseSeveral();
  }
  const trimmed = value.trim();
  const space = trimmed.indexOf(' ');
  const name = (space < 0 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const scheme: ChallengeScheme | undefined =
    name === 'bearer' ? 'Bearer' : name === 'dpop' ? 'DPoP' : undefined;
  if (scheme === undefined) reject('missing', 'no access token', { error: null });
  const token = space < 0 ? '' : trimmed.slice(space + 1).replace(/^ +/, '');
  if (token === '') reject('missing', 'no access token', { error: null, scheme });
  // The length is capped before the pattern runs over it.
  if (token.length > maxTokenLength || !b64token.test(token)) {
    reject('malformed', 'the Authorization header is malformed', { scheme });
  }
  return { scheme, token };
}
