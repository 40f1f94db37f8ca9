/**
 * A reverse proxy on 127.0.0.1 like the ones services sit behind: it forwards each request to
 * an upstream chosen after it starts (so the upstream can be configured with the proxy's own
 * origin), talks to the upstream with the upstream's `Host`, and tells it where the request
 * came in through `X-Forwarded-Proto` and `X-Forwarded-Host`, replacing any the client sent.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForwardingProxy {
  /** `http://127.0.0.1:<port>`: the public origin clients call. */
  origin: string;
  /** Where requests go from now on. */
  forwardTo(upstream: string): void;
  close(): Promise<void>;
}

const hopByHop = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
]);

export async function startForwardingProxy(): Promise<ForwardingProxy> {
  let upstream: string | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined || hopByHop.has(name) || name.startsWith('x-forwarded-')) continue;
        headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      headers.set('x-forwarded-proto', 'http');
      headers.set('x-forwarded-host', req.headers.host ?? '');
      const body = chunks.length === 0 ? undefined : Buffer.concat(chunks);
      fetch(`${upstream}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers,
        body,
        redirect: 'manual',
      })
        .then(async (answer) => {
          const out: Record<string, string> = {};
          answer.headers.forEach((value, name) => {
            if (!hopByHop.has(name) && name !== 'content-encoding') out[name] = value;
          });
          res.writeHead(answer.status, out);
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => {
          res.writeHead(502).end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    forwardTo(next) {
      upstream = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
