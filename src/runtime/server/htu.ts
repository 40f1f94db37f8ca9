import { parseHttpUrl } from '../shared/url.js';

const unreserved = /[A-Za-z0-9\-._~]/;

/** RFC 3986 §6.2.2.1–2: percent-encodings in upper case, and unreserved characters decoded. */
function normalisePercentEncoding(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/%([0-9a-fA-F]{2})/g, (_match, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return unreserved.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/**
 * The form in which a DPoP proof's `htu` and the request URL are compared (RFC 9449 §4.3 check
 * 9, RFC 3986 §6.2.2 and §6.2.3): scheme and host in lower case, default port dropped, dot
 * segments resolved, percent-encoding normalised, an empty path read as `/`, and no query or
 * fragment. `undefined` for anything but an absolute http(s) URL without user information.
 */
export function normaliseHtu(value: string): string | undefined {
  // The URL parser would quietly strip whitespace and control characters; a proof carrying
  // them is refused instead.
  if (/[\u0000-\u0020\u007f]/.test(value)) return undefined;
  const url = parseHttpUrl(value);
  if (url?.username !== '' || url.password !== '') return undefined;
  return `${url.protocol}//${url.host}${normalisePercentEncoding(url.pathname)}`;
}
