/**
 * Where the middleware finds the client certificate of a request (RFC 8705 §3): the peer
 * certificate of the TLS socket the request came on, or, behind a TLS-terminating proxy that
 * is trusted to set it, the RFC 9440 `Client-Cert` header.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9440#section-2
 */
import { clientCertificateFromHeader } from '../server/certificate-binding.js';
import { reject } from '../server/rejection.js';
import { readHeader, SEVERAL, type HeadersLike } from '../server/request.js';

/** The header a trusted proxy forwards the client certificate in (RFC 9440 §2.2). */
export const CLIENT_CERTIFICATE_HEADER = 'client-cert';

/**
 * The DER bytes of the certificate the peer of a TLS socket presented, `undefined` for a plain
 * socket or a TLS peer that presented none (Node answers that with an empty object).
 */
export function peerCertificate(socket: unknown): Uint8Array | undefined {
  if (typeof socket !== 'object' || socket === null) return undefined;
  const { getPeerCertificate } = socket as { getPeerCertificate?: unknown };
  if (typeof getPeerCertificate !== 'function') return undefined;
  const peer = (getPeerCertificate as (detailed: boolean) => unknown).call(socket, true);
  if (typeof peer !== 'object' || peer === null) return undefined;
  const { raw } = peer as { raw?: unknown };
  return raw instanceof Uint8Array && raw.length > 0 ? raw : undefined;
}

/**
 * The certificate a trusted proxy forwarded in `Client-Cert`: `undefined` when the header is
 * absent; a header sent more than once or not one DER certificate is refused (reason
 * `certificate`), as a server `Rejection`.
 */
export function forwardedCertificate(headers: HeadersLike): Uint8Array | undefined {
  const value = readHeader(headers, CLIENT_CERTIFICATE_HEADER);
  if (value === SEVERAL) {
    reject('certificate', 'the client certificate could not be read', {
      detail: 'the Client-Cert header came more than once',
    });
  }
  return clientCertificateFromHeader(value);
}
