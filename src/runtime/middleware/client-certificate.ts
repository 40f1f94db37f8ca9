/**
 * Where the middleware finds the client certificate of a request (RFC 8705 §3): the peer
 * certificate of the TLS socket the request came on, or, behind a TLS-terminating proxy that
 * is trusted to set it, the RFC 9440 `Client-Cert` header.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9440#section-2
 */

// Reading the header is the resource server's, which `requestFromNode` requests hand it to.
export { CLIENT_CERTIFICATE_HEADER, forwardedCertificate } from '../server/request.js';

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
