/**
 * Small HTTP helpers for integration tests, all on 127.0.0.1: a scripted server, a forwarding
 * proxy, a port nobody listens on, and a fetch that records what the SDK sends.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FetchLike } from '../../src/index.js';

/** A request as a test server received it, body read in full. */
export interface ReceivedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** Path without the query. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (request: ReceivedRequest, response: ServerResponse) => void | Promise<void>;

export interface TestServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  origin: string;
  port: number;
  requests: ReceivedRequest[];
  /** Replaces the handler for the requests that follow. */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

/**
 * Starts a server whose answers the test scripts. A handler that never writes leaves the
 * request hanging (for timeout tests); `close()` drops every connection.
 */
export async function startServer(handler: Handler): Promise<TestServer> {
  let current = handler;
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      const received: ReceivedRequest = {
        method: req.method ?? 'GET',
        url,
        path: url.split('?')[0] ?? '/',
        headers: { ...req.headers },
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(received);
      Promise.resolve(current(received, res)).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(599);
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    handle(next) {
      current = next;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** Answers with a JSON body. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Answers with a text body of the given content type. */
export function sendText(
  response: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain',
): void {
  response.writeHead(status, { 'content-type': contentType });
  response.end(body);
}

export interface ProxyOptions {
  /** Answer some requests here instead of forwarding them (return true when answered). */
  intercept?: (request: ReceivedRequest, response: ServerResponse) => boolean;
  /**
   * Replace the target's origin with the proxy's in forwarded bodies, so discovery documents
   * name the proxy: issuer, token endpoint and the rest.
   */
  rewriteOrigin?: boolean;
}

/** A forwarding proxy in front of `target` (an origin such as an IdP's issuer). */
export async function startProxy(target: string, options: ProxyOptions = {}): Promise<TestServer> {
  const targetOrigin = new URL(target).origin;
  let origin = '';
  const proxy = await startServer(async (request, response) => {
    if (options.intercept?.(request, response)) return;
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || ['host', 'connection', 'content-length'].includes(name)) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const upstream = await fetch(`${targetOrigin}${request.url}`, {
      method: request.method,
      headers,
      body: request.method === 'GET' || request.method === 'HEAD' ? undefined : request.body,
      redirect: 'manual',
    });
    let body = await upstream.text();
    if (options.rewriteOrigin) body = body.split(targetOrigin).join(origin);
    const out: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(name))
        out[name] = value;
    });
    response.writeHead(upstream.status, out);
    response.end(body);
  });
  origin = proxy.origin;
  return proxy;
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A request as the SDK handed it to its `fetch`, body read. */
export interface SentRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

export interface RecordingFetch {
  fetch: FetchLike;
  sent: SentRequest[];
  /** Form bodies of the requests sent to `url` (path match), parsed. */
  forms(pathname: string): URLSearchParams[];
}

/**
 * A fetch that forwards to the global one and records each request: what the SDK put on the
 * wire, for assertions on form bodies the IdP does not echo.
 */
export function recordingFetch(
  inner: FetchLike = (input, init) => fetch(input, init),
): RecordingFetch {
  const sent: SentRequest[] = [];
  return {
    sent,
    async fetch(input, init) {
      const request = new Request(input, init);
      sent.push({
        method: request.method,
        url: request.url,
        headers: new Headers(request.headers),
        body: request.body ? await request.clone().text() : '',
      });
      return inner(request);
    },
    forms(pathname) {
      return sent
        .filter((r) => new URL(r.url).pathname === pathname)
        .map((r) => new URLSearchParams(r.body));
    },
  };
}
