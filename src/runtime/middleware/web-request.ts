import type { RequestLike } from '../server/request.js';
import type { ResolvedServiceAuthOptions } from './guard-options.js';
import { publicRequestUrl } from './request-url.js';
import { peerCertificate } from './client-certificate.js';

/**
 * The `{ method, url, headers }` of a fetch-style `Request` (Hono's `c.req.raw`), as an adapter
 * hands it to `verifyRequest`. Its URL is absolute already, so the scheme and host come from
 * it unless `origin`'s `publicOrigin` or `trustProxy` say otherwise. `socket` is the Node
 * socket under it, when the runtime has one (`@hono/node-server`): its client certificate, if
 * any, goes with the request.
 */
export function webRequestParts(
  request: Request,
  origin: Pick<ResolvedServiceAuthOptions, 'publicOrigin' | 'trustProxy'>,
  socket?: unknown,
): RequestLike {
  const url = publicRequestUrl(
    {
      secure: false,
      host: undefined,
      target: request.url,
      header: (name) => request.headers.get(name) ?? undefined,
    },
    origin,
  );
  return {
    method: request.method,
    url,
    headers: request.headers,
    clientCertificate: peerCertificate(socket),
  };
}
