import type { ResolvedServiceAuthOptions } from './guard-options.js';

/** What a framework knows about where a request was sent. */
export interface IncomingTarget {
  /** Whether the connection to this process is TLS. */
  secure: boolean;
  /** The `Host` header (or HTTP/2 `:authority`). */
  host: string | undefined;
  /** The request target: origin-form (`/orders/42?x=1`) or absolute-form (`https://host/orders`). */
  target: string;
  /** One request header's value; read only when `trustProxy` is on. */
  header(name: string): string | undefined;
}

/**
 * A host and optional port as RFC 3986 §3.2.2 allows them in practice: a name or IPv4 address,
 * or a bracketed IPv6 literal. Anything else (a slash, `@`, whitespace) could move the path or
 * the host of the URL built from it, so such a request gets no absolute URL at all.
 */
const validHost = /^(?:[A-Za-z0-9\-._~]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const absoluteForm = /^https?:\/\//i;

function firstValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const comma = value.indexOf(',');
  const first = (comma < 0 ? value : value.slice(0, comma)).trim();
  return first === '' ? undefined : first;
}

/**
 * The URL the client called, for the DPoP `htu` check (RFC 9449 §4.3 check 9): the pinned
 * public origin, else the forwarded scheme and host when the proxy is trusted, else the
 * connection's scheme and the `Host` header (or the authority of an absolute-form target, which
 * RFC 9112 §3.2.2 puts before `Host`). When no trustworthy origin can be formed, the path alone
 * is returned: the resource server then refuses DPoP proofs for this request as not made for an
 * absolute URL, while Bearer tokens, which carry no URL, are unaffected.
 */
export function publicRequestUrl(
  incoming: IncomingTarget,
  options: Pick<ResolvedServiceAuthOptions, 'publicOrigin' | 'trustProxy'>,
): string {
  let { target } = incoming;
  let scheme = incoming.secure ? 'https' : 'http';
  let host = incoming.host;

  if (absoluteForm.test(target)) {
    if (options.publicOrigin === undefined && !options.trustProxy) return target;
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return target;
    }
    scheme = url.protocol.slice(0, -1);
    host = url.host;
    target = `${url.pathname}${url.search}`;
  }
  if (!target.startsWith('/')) return target;
  if (options.publicOrigin !== undefined) return `${options.publicOrigin}${target}`;

  if (options.trustProxy) {
    const forwardedProto = firstValue(incoming.header('x-forwarded-proto'));
    const forwardedHost = firstValue(incoming.header('x-forwarded-host'));
    if (forwardedProto !== undefined) scheme = forwardedProto.toLowerCase();
    if (forwardedHost !== undefined) host = forwardedHost;
  }
  if ((scheme !== 'https' && scheme !== 'http') || host === undefined || !validHost.test(host)) {
    return target;
  }
  return `${scheme}://${host}${target}`;
}
