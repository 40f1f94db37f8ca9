import type { RequestLike } from '../server/request.js';
import type { ResolvedServiceAuthOptions } from './guard-options.js';
import { publicRequestUrl } from './request-url.js';

/**
 * The `{ method, url, headers }` of a fetch-style `Request` (Hono's `c.req.raw`), as an adapter
 * hands it to `verifyRequest`. Its URL is absolute already, so the scheme and host come from
 * it unless `origin`'s `publicOrigin` or `trustProxy` say otherwise.
 */
export function webRequestParts(
  request: Request,
  origin: Pick<ResolvedServiceAuthOptions, 'publicOrigin' | 'trustProxy'>,
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
  return { method: request.method, url, headers: request.headers };
}
