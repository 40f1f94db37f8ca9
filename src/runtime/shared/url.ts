/**
 * URL policy shared by every factory and by discovery: plain `http:` is for loopback only,
 * unless the caller says `allowInsecureHttp: true` (RFC 6749 §3.1, RFC 8414 §2: TLS is
 * required for the authorization server's endpoints).
 */
import { OptionError } from './options.js';

/** `localhost`, `*.localhost`, `127.0.0.0/8` and `[::1]`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '[::1]' || host === '::1') return true;
  return /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host);
}

/** Whether `url` is plain HTTP to a host that is not loopback, and that is not allowed. */
export function isRefusedInsecureHttp(url: URL, allowInsecureHttp: boolean): boolean {
  return url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHost(url.hostname);
}

/**
 * `value` parsed, when it is an absolute `http:` or `https:` URL; `undefined` for anything else
 * (relative, unparsable, another scheme). The one place the SDK decides what an http(s) URL is:
 * callers add their own rules (no credentials, no path, …) on the `URL` it returns.
 */
export function parseHttpUrl(value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
}

/**
 * An issuer or endpoint option: an absolute http(s) URL without user information, returned as
 * given (an issuer is compared exactly as configured, RFC 8414 §3.3). Plain `http:` is refused
 * unless the host is loopback or `allowInsecureHttp` is set. The error names the option and the
 * scheme, never the URL.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 */
export function requireHttpUrl(
  value: unknown,
  name: string,
  where: string,
  policy: { allowInsecureHttp: boolean },
): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new OptionError(
      `${where}: \`${name}\` must be a non-empty string`,
      'ERR_INVALID_OPTION',
      name,
    );
  }
  const url = parseHttpUrl(value);
  if (url === undefined) {
    throw new OptionError(
      `${where}: \`${name}\` must be an absolute http(s) URL`,
      'ERR_INVALID_OPTION',
      name,
    );
  }
  if (url.username || url.password) {
    throw new OptionError(
      `${where}: \`${name}\` must not carry credentials`,
      'ERR_INVALID_OPTION',
      name,
    );
  }
  if (isRefusedInsecureHttp(url, policy.allowInsecureHttp)) {
    throw new OptionError(
      `${where}: \`${name}\` uses http: to a host that is not loopback; use https: (RFC 6749 §3.1, RFC 8414 §2), or set \`allowInsecureHttp: true\` to accept plain HTTP anyway`,
      'ERR_INSECURE_HTTP',
      name,
    );
  }
  return value;
}
