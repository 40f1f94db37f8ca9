import type { HeadersLike, RequestLike } from '../server/request.js';
import { optionKeys, rejectUnknownOptions } from '../shared/options.js';
import {
  validateClientCertificateHeader,
  validatePublicOrigin,
  type ResolvedServiceAuthOptions,
} from './guard-options.js';
import { publicRequestUrl } from './request-url.js';
import { peerCertificate } from './client-certificate.js';

/**
 * The parts of a Node.js `http.IncomingMessage` (or `http2.Http2ServerRequest`) that
 * {@link requestFromNode} reads. Declared here so the entry point imports nothing from `node:`.
 */
export interface NodeIncomingRequest {
  method?: string | undefined;
  url?: string | undefined;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Node 18.3+: every header with all its lines. Preferred when present. */
  headersDistinct?: Readonly<Record<string, readonly string[] | undefined>>;
  /** Names and values as they arrived, alternating. Read when `headersDistinct` is absent. */
  rawHeaders?: readonly string[];
  /** A TLS socket has `encrypted: true`. */
  socket?: unknown;
}

/**
 * Options of {@link requestFromNode}: where the public URL of the request comes from, as for
 * the middleware's options of the same names.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 * @example
 * ```ts
 * const options: NodeRequestOptions = { publicOrigin: 'https://orders.example.com' };
 * ```
 */
export interface NodeRequestOptions {
  /**
   * The origin clients call, such as `https://api.example.com`: the URL a DPoP proof is checked
   * against is this origin and the request's path. Default: the connection's scheme and the
   * `Host` header, which is only right when nothing stands between the client and Node.
   */
  publicOrigin?: string;
  /**
   * Read the public scheme and host from `X-Forwarded-Proto` and `X-Forwarded-Host`. Only with
   * a proxy you run that sets them and strips any the client sent. Default `false`.
   */
  trustProxy?: boolean;
  /**
   * `'client-cert'`: the client certificate is the one a TLS-terminating proxy forwarded in the
   * RFC 9440 `Client-Cert` header (a structured-field byte sequence `:base64 DER:`), not the
   * socket's, which is the proxy's. The header is read when the request is verified: one that
   * is malformed, longer than 16 KiB or sent twice is refused there (`TokenError` reason
   * `certificate`, 401 `invalid_token`, and a `verification_failed` event). Only set it when a
   * proxy you run strips any `Client-Cert` the client sent: the header is otherwise the
   * client's word. Default: the header is ignored and the certificate is the socket's.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9440#section-2.2
   * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
   */
  clientCertificateHeader?: 'client-cert' | undefined;
}

/** Every option of {@link NodeRequestOptions}; the compiler keeps the list complete. */
const NODE_REQUEST_OPTION_KEYS = optionKeys<NodeRequestOptions>()([
  'publicOrigin',
  'trustProxy',
  'clientCertificateHeader',
]);

const WHERE = 'requestFromNode';

/** Headers rebuilt from `rawHeaders`, one object per request (see {@link nodeHeaders}). */
const rebuilt = new WeakMap<object, HeadersLike>();

/**
 * Node's request headers with every line kept. `req.headers` keeps only the first line of a
 * repeated `Authorization` (and joins other repeated headers with commas), so a second
 * credential would go unseen; `headersDistinct` and `rawHeaders` keep them all, and the
 * resource server refuses a request whose credential header came more than once. The same
 * request always gives the same object, so a second check of it is known for what it is.
 */
export function nodeHeaders(req: NodeIncomingRequest): HeadersLike {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a request made by other code than node:http may lack headersDistinct
  if (typeof req.headersDistinct === 'object' && req.headersDistinct !== null) {
    return req.headersDistinct;
  }
  const raw = req.rawHeaders;
  if (!Array.isArray(raw)) return req.headers;
  const known = rebuilt.get(req);
  if (known !== undefined) return known;
  const headers: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = String(raw[index]).toLowerCase();
    (headers[name] ??= []).push(String(raw[index + 1]));
  }
  rebuilt.set(req, headers);
  return headers;
}

/** One value of a Node header, the first when it came several times. */
export function firstNodeHeader(req: NodeIncomingRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : value?.[0];
}

/** Whether the connection to this process is TLS. */
export function isEncrypted(req: NodeIncomingRequest): boolean {
  const socket = req.socket as { encrypted?: unknown } | null | undefined;
  return socket?.encrypted === true;
}

/**
 * Turns a Node.js `http` request into the `{ method, url, headers }` that
 * `ResourceServer.verifyRequest` takes, keeping every line of repeated headers so that a
 * request with two `Authorization` or two `DPoP` lines is refused rather than judged by its
 * first one (RFC 9110 §5.3, RFC 6750 §3.1, RFC 9449 §4.3). The URL is the public one the client
 * called: `publicOrigin` when given, else the forwarded scheme and host with `trustProxy`, else
 * the connection's scheme and the `Host` header. Bad options throw a `TypeError`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createResourceServer, requestFromNode, TokenError } from 's2s-auth/server';
 *
 * const server = createResourceServer({ issuer, audience: 'https://orders.example.com' });
 * createServer(async (req, res) => {
 *   const claims = await server.verifyRequest(
 *     requestFromNode(req, { publicOrigin: 'https://orders.example.com' }),
 *   );
 *   res.end(JSON.stringify({ caller: claims.client_id }));
 * });
 * ```
 */
export function requestFromNode(
  req: NodeIncomingRequest,
  options: NodeRequestOptions = {},
): RequestLike {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers in plain JavaScript can pass anything
  if (typeof req !== 'object' || req === null || typeof req.headers !== 'object') {
    throw new TypeError(`${WHERE}: \`req\` must be a Node.js http request`);
  }
  rejectUnknownOptions(options, NODE_REQUEST_OPTION_KEYS, WHERE);
  if (options.trustProxy !== undefined && typeof options.trustProxy !== 'boolean') {
    throw new TypeError(`${WHERE}: \`trustProxy\` must be a boolean`);
  }
  const clientCertificateHeader = validateClientCertificateHeader(
    options.clientCertificateHeader,
    WHERE,
  );
  const parts = nodeRequestParts(req, req.url ?? '/', {
    publicOrigin: validatePublicOrigin(options.publicOrigin, WHERE),
    trustProxy: options.trustProxy === true,
  });
  if (clientCertificateHeader === undefined) return parts;
  // The connection is the proxy's: the certificate is the one it forwarded, or none. The
  // header is read by verifyRequest, so a bad one is a refusal there, never a throw here.
  return { method: parts.method, url: parts.url, headers: parts.headers, clientCertificateHeader };
}

/**
 * The `{ method, url, headers }` of a Node request, as every Node adapter hands it to
 * `verifyRequest`: `target` is the request target the framework saw before its own rewrites
 * (Express's `originalUrl`, Fastify's URL before `rewriteUrl`), and the origin in front of it
 * follows `origin`'s `publicOrigin` and `trustProxy`.
 */
export function nodeRequestParts(
  req: NodeIncomingRequest,
  target: string,
  origin: Pick<ResolvedServiceAuthOptions, 'publicOrigin' | 'trustProxy'>,
): RequestLike {
  const url = publicRequestUrl(
    {
      secure: isEncrypted(req),
      host: firstNodeHeader(req, 'host') ?? firstNodeHeader(req, ':authority'),
      target,
      header: (name) => firstNodeHeader(req, name),
    },
    origin,
  );
  return {
    method: req.method ?? 'GET',
    url,
    headers: nodeHeaders(req),
    clientCertificate: peerCertificate(req.socket),
  };
}
