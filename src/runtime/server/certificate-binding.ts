/**
 * Certificate-bound access tokens (RFC 8705 §3): a token whose `cnf` names the SHA-256
 * thumbprint of a client certificate (`x5t#S256`) is good only on a request made over mutual
 * TLS with that certificate.
 *
 * Nothing here imports `node:`: a certificate comes in as DER bytes, PEM text, or an object with
 * the DER in `raw` (Node's `X509Certificate`, `tls.TLSSocket#getPeerCertificate().raw`), and the
 * hash runs on the build's crypto backend.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9440
 */
import { sha256Base64url } from '../crypto/backend.js';
import { OptionError } from '../shared/options.js';
import { reject } from './rejection.js';

/**
 * A client certificate: its DER bytes, its PEM text (one `CERTIFICATE` block), or an object
 * holding the DER as `raw`, as Node's `X509Certificate` and the peer certificate of a TLS socket
 * (`socket.getPeerCertificate(true)`) do.
 */
export type ClientCertificate = Uint8Array | ArrayBuffer | string | { readonly raw: Uint8Array };

/** The confirmation member naming a certificate thumbprint (RFC 8705 §3.1). */
export const CERTIFICATE_THUMBPRINT_MEMBER = 'x5t#S256';

/** A `cnf["x5t#S256"]` value: base64url of a SHA-256 digest, 43 characters. */
export const SHA256_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/** Certificates larger than this are refused unread: no real client certificate comes close. */
const maxCertificateBytes = 64 * 1024;

/**
 * The longest `Client-Cert` header read, in characters: the base64 of a 12 KiB certificate,
 * far above a real one (1 to 3 KiB), and the size of Node's whole default header limit.
 */
export const MAX_CLIENT_CERT_HEADER_LENGTH = 16 * 1024;

const pemBlock = /^\s*-----BEGIN CERTIFICATE-----\r?\n([^-]+)-----END CERTIFICATE-----\s*$/;

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object without DER bytes in `raw`' : `a ${typeof value}`;
}

function invalid(what: string, where: string): never {
  throw new OptionError(
    `${where}: \`clientCertificate\` must be a certificate as DER bytes, PEM text or an X509Certificate; ${what}`,
    'ERR_INVALID_OPTION',
    'clientCertificate',
  );
}

/** Standard base64 (padding optional, whitespace ignored) → bytes; `undefined` if it is not. */
function decodeBase64(text: string): Uint8Array | undefined {
  const compact = text.replace(/[\s]+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  const unpadded = compact.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  if (compact.length !== unpadded.length && compact.length % 4 !== 0) return undefined;
  let binary: string;
  try {
    binary = atob(unpadded);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Whether `bytes` is one DER SEQUENCE and nothing else, as every X.509 certificate is: catches
 * PEM text passed as bytes, a truncated certificate, or a chain glued together.
 */
export function isDerSequence(bytes: Uint8Array): boolean {
  if (bytes.length < 2 || bytes[0] !== 0x30) return false;
  const first = bytes[1]!;
  let length: number;
  let header: number;
  if (first < 0x80) {
    length = first;
    header = 2;
  } else {
    const count = first & 0x7f;
    // Four length bytes are far beyond any certificate.
    if (count > 3 || bytes.length < 2 + count) return false;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[2 + i]!;
    // DER uses the shortest form: no leading zero byte, no long form for short lengths (which
    // also refuses BER's indefinite length, 0x80).
    if (bytes[2] === 0 || length < 0x80) return false;
    header = 2 + count;
  }
  return header + length === bytes.length;
}

/**
 * The DER bytes of a client certificate given in any of the {@link ClientCertificate} forms.
 * Throws an `OptionError` (`ERR_INVALID_OPTION`, option `clientCertificate`) for anything else;
 * the message names the form found, never the bytes.
 */
export function certificateDer(
  certificate: ClientCertificate,
  where = 'verifyRequest',
): Uint8Array {
  let der: Uint8Array;
  if (typeof certificate === 'string') {
    if (certificate.length > 2 * maxCertificateBytes) invalid('the PEM text is too long', where);
    const match = pemBlock.exec(certificate);
    if (!match) {
      invalid(
        certificate.includes('-----BEGIN CERTIFICATE-----')
          ? 'found PEM text that is not exactly one CERTIFICATE block'
          : 'found a string that is not PEM',
        where,
      );
    }
    const decoded = decodeBase64(match[1]!);
    if (decoded === undefined) invalid('the PEM block is not valid base64', where);
    der = decoded;
  } else if (certificate instanceof Uint8Array) {
    der = certificate;
  } else if (certificate instanceof ArrayBuffer) {
    der = new Uint8Array(certificate);
  } else if (
    typeof certificate === 'object' &&
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers in plain JavaScript can pass anything
    certificate !== null &&
    (certificate as { raw?: unknown }).raw instanceof Uint8Array
  ) {
    der = certificate.raw;
  } else {
    invalid(`found ${kindOf(certificate)}`, where);
  }
  if (der.length > maxCertificateBytes) invalid('the certificate is too large', where);
  if (!isDerSequence(der)) invalid('the bytes are not one DER-encoded certificate', where);
  return der;
}

/**
 * The RFC 8705 §3.1 thumbprint of a certificate: base64url(SHA-256(DER)), the value an
 * authorization server puts in a bound token's `cnf["x5t#S256"]`. A string or a promise of one,
 * depending on the crypto backend: `await` it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-3.1
 */
export function certificateThumbprint(certificate: ClientCertificate): string | Promise<string> {
  return sha256Base64url(certificateDer(certificate, 'certificateThumbprint'));
}

/** Equal strings, compared in time independent of where they first differ. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/**
 * The certificate thumbprint a token is bound to: `undefined` for a token with no
 * `cnf["x5t#S256"]`. A member of another type, or empty, is refused (reason `claims`, claim
 * `cnf`): a binding the server cannot read must not pass for no binding.
 */
export function boundThumbprint(claims: { readonly cnf?: unknown }): string | undefined {
  const { cnf } = claims;
  if (cnf === undefined || cnf === null || typeof cnf !== 'object') return undefined;
  const value = (cnf as Record<string, unknown>)[CERTIFICATE_THUMBPRINT_MEMBER];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !SHA256_THUMBPRINT.test(value)) {
    reject('claims', 'the token has an invalid certificate binding', {
      claim: 'cnf',
      detail: `cnf["x5t#S256"] must be the base64url of a SHA-256 digest (43 characters), found ${typeof value === 'string' ? `a string of ${value.length} characters` : `a ${typeof value}`}`,
    });
  }
  return value;
}

/**
 * Holds a verified token's claims to RFC 8705 §3: a token bound to a certificate
 * (`cnf["x5t#S256"]`) is refused (reason `certificate`, 401 `invalid_token`) unless the request
 * came with that certificate. A token that is not bound passes with or without one. Throws a
 * server `Rejection`, which the entry points turn into a `TokenError`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
 */
export async function checkCertificateBinding(
  claims: { readonly cnf?: unknown },
  certificate: ClientCertificate | undefined,
): Promise<void> {
  const expected = boundThumbprint(claims);
  if (expected === undefined) return;
  if (certificate === undefined) {
    reject('certificate', 'the token is bound to a client certificate', {
      detail: 'the request came without a client certificate',
    });
  }
  const actual = await sha256Base64url(certificateDer(certificate));
  if (!sameText(actual, expected)) {
    reject('certificate', 'the token is bound to a client certificate', {
      detail: `the client certificate's thumbprint is ${actual}, the token is bound to ${expected}`,
    });
  }
}

/**
 * Refuses a token whose two sets of claims (a JWT's own, and its introspection answer) bind it
 * to different certificates, or one of them to none (reason `certificate`): a binding one side
 * drops must not make the token a bearer token, nor one it adds be skipped. Each side's
 * `cnf["x5t#S256"]` is read as {@link checkCertificateBinding} reads it.
 */
export function checkSameCertificateBinding(
  token: { readonly cnf?: unknown },
  introspected: { readonly cnf?: unknown },
): void {
  const own = boundThumbprint(token);
  const answered = boundThumbprint(introspected);
  if (own !== answered) {
    reject('certificate', 'the token and its introspection name different client certificates', {
      detail: `the token is bound to ${own ?? 'no certificate'}, its introspection to ${answered ?? 'none'}`,
    });
  }
}

/** `;name` or `;name=value` parameters of a structured-field item (RFC 8941 §3.1.2). */
const parameters = /^(?:\s*;\s*[a-z*][a-z0-9_.*-]*(?:=(?:"(?:[^"\\]|\\["\\])*"|[^;,"\s]+))?)*$/;

/**
 * The DER bytes of the client certificate a TLS-terminating proxy forwarded in an RFC 9440
 * `Client-Cert` header: a structured-field byte sequence, `:<base64 DER>:`. `undefined` when
 * the header is absent. A header that is not one well-formed byte sequence holding one DER
 * certificate (a list, a bare PEM, bad base64, a truncated certificate) is refused (reason
 * `certificate`, 401 `invalid_token`). Only read the header from a proxy you trust, which strips
 * any the client sent: the header is otherwise the client's word.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9440#section-2.2
 * @see https://www.rfc-editor.org/rfc/rfc8941#section-3.3.5
 */
export function clientCertificateFromHeader(
  value: string | readonly string[] | null | undefined,
): Uint8Array | undefined {
  if (value === undefined || value === null) return undefined;
  function malformed(found: string): never {
    reject('certificate', 'the client certificate could not be read', {
      detail: `the Client-Cert header must be one structured-field byte sequence (:base64:), ${found}`,
    });
  }
  if (typeof value !== 'string') {
    if (value.length === 0) return undefined;
    if (value.length > 1) malformed(`found ${value.length} header lines`);
    value = value[0]!;
  }
  if (value.length > MAX_CLIENT_CERT_HEADER_LENGTH) {
    malformed(`found one longer than ${MAX_CLIENT_CERT_HEADER_LENGTH} characters`);
  }
  const text = value.replace(/^[ \t]+|[ \t]+$/g, '');
  const end = text.indexOf(':', 1);
  if (!text.startsWith(':') || end === -1) malformed('found no byte sequence');
  if (!parameters.test(text.slice(end + 1))) {
    malformed(text.includes(',') ? 'found a list' : 'found text after the byte sequence');
  }
  const encoded = text.slice(1, end);
  // RFC 8941 §3.3.5: no whitespace inside the colons.
  const der = /\s/.test(encoded) ? undefined : decodeBase64(encoded);
  if (der === undefined) malformed('found one that is not base64');
  if (!isDerSequence(der)) malformed('found bytes that are not one DER-encoded certificate');
  return der;
}
