import type { NetworkErrorCode } from '../errors.js';

/** Socket and resolver codes (Node, undici, OpenSSL) and what they mean to a person. */
const failures: Record<string, [NetworkErrorCode, string]> = {
  ECONNREFUSED: ['refused', 'connection refused: is the server running and the port right?'],
  ENOTFOUND: ['dns', 'host name not found'],
  EAI_AGAIN: ['dns', 'DNS lookup failed: the resolver did not answer, usually for a while'],
  ECONNRESET: ['reset', 'connection reset'],
  EPIPE: ['reset', 'connection closed'],
  UND_ERR_SOCKET: ['reset', 'connection closed by the server'],
  ETIMEDOUT: ['timeout', 'connection timed out'],
  UND_ERR_CONNECT_TIMEOUT: ['timeout', 'connection timed out'],
  EHOSTUNREACH: ['unreachable', 'no route to the host'],
  ENETUNREACH: ['unreachable', 'network unreachable'],
  ERR_SSL_WRONG_VERSION_NUMBER: [
    'tls',
    'TLS handshake failed: the server answered in plain HTTP, not TLS; use an http:// URL or the TLS port',
  ],
};

/** Describes a fetch failure in words a person can act on, without echoing the request. */
export function describeFailure(
  error: unknown,
  target: string,
  timeoutMs: number,
): { message: string; code: NetworkErrorCode } {
  const name = error instanceof Error || error instanceof DOMException ? error.name : '';
  if (name === 'TimeoutError') {
    return { code: 'timeout', message: `${target} did not answer within ${timeoutMs} ms` };
  }
  if (name === 'AbortError') {
    return { code: 'aborted', message: `the request to ${target} was aborted` };
  }
  const socketCode = errorCode(error);
  if (socketCode === undefined) return { code: 'failed', message: `could not reach ${target}` };
  const [code, hint] =
    failures[socketCode] ??
    (/^ERR_(SSL|TLS)_|CERT/.test(socketCode)
      ? ['tls', 'TLS failed: the server certificate is not trusted or not valid']
      : ['failed', 'request failed']);
  return { code, message: `could not reach ${target}: ${hint} (${socketCode})` };
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
