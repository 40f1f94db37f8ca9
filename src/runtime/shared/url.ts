/**
 * URL policy shared by every factory and by discovery: plain `http:` is for loopback only,
 * unless the caller says `allowInsecureHttp: true` (RFC 6749 §3.1, RFC 8414 §2: TLS is
 * required for the authorization server's endpoints).
 */

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
