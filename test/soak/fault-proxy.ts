/**
 * A fault-injecting HTTP proxy on 127.0.0.1, put between the SDK and a real authorization
 * server. Each request is forwarded, or answered with the fault currently in force.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to a request while a fault is in force. */
export type Fault =
  | 'none'
  /** Close the connection without an answer. */
  | 'drop'
  /** Hold the request `delayMs`, then forward it. */
  | 'delay'
  /** 500 with an HTML body. */
  | 'error500'
  /** 429 with `Retry-After: 1`. */
  | 'rateLimit'
  /** 200 whose body stops half-way (the declared length is never reached). */
  | 'truncate'
  /** 200 with a body that is not JSON. */
  | 'garbage';

export interface FaultProxy {
  url: string;
  /** The fault for requests whose path starts with one of `paths` (all paths when empty). */
  setFault(fault: Fault, paths?: string[]): void;
  /** Where requests go (changed when the IdP behind restarts). */
  setTarget(port: number): void;
  /** Requests forwarded to the IdP, by path. */
  forwarded: Map<string, number>;
  /** Requests answered with a fault, by fault. */
  injected: Map<Fault, number>;
  close(): Promise<void>;
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export async function startFaultProxy(targetPort: number, delayMs: number): Promise<FaultProxy> {
  let target = targetPort;
  let fault: Fault = 'none';
  let faultPaths: string[] = [];
  const forwarded = new Map<string, number>();
  const injected = new Map<Fault, number>();

  function forward(req: IncomingMessage, res: ServerResponse, path: string): void {
    bump(forwarded, path);
    const upstream = httpRequest(
      { host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const active =
      fault !== 'none' && (faultPaths.length === 0 || faultPaths.some((p) => path.startsWith(p)));
    if (!active) {
      forward(req, res, path);
      return;
    }
    bump(injected, fault);
    switch (fault) {
      case 'drop':
        req.socket.destroy();
        return;
      case 'delay':
        setTimeout(() => forward(req, res, path), delayMs).unref();
        return;
      case 'error500':
        res
          .writeHead(500, { 'content-type': 'text/html' })
          .end('<html><body>Internal error</body></html>');
        return;
      case 'rateLimit':
        res
          .writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' })
          .end('{"error":"slow_down"}');
        return;
      case 'truncate':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
        res.write('{"access_token":"eyJhbGciOi');
        setTimeout(() => res.destroy(), 10).unref();
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    setFault(next, paths = []) {
      fault = next;
      faultPaths = paths;
    },
    setTarget(next) {
      target = next;
    },
    forwarded,
    injected,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
