/**
 * The `tls` option of mutual TLS (RFC 8705 §2): a client certificate and its key as PEM, and
 * optionally the CA certificates to trust for the server. Checked when the option is given,
 * naming the member and the kind of PEM block found in it, never its content.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-2
 */
import { builtinModule } from '../shared/builtin-module.js';
import { OptionError, optionKeys, rejectUnknownOptions } from '../shared/options.js';

/** PEM text, as a string or its bytes (a `Buffer` read from a file). */
export type PemInput = string | Uint8Array;

/**
 * The client certificate for mutual TLS (`tls_client_auth`, `self_signed_tls_client_auth`):
 * PEM strings or buffers, as `node:tls` takes them.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-2
 */
export interface TlsClientOptions {
  /** The client certificate, PEM; intermediate CA certificates may follow it. */
  cert: PemInput;
  /** The certificate's private key, PEM (PKCS #8, or PKCS #1 / SEC 1), not encrypted. */
  key: PemInput;
  /**
   * CA certificates to trust for the server's certificate, PEM, instead of the runtime's
   * default set. Default: the default set.
   */
  ca?: PemInput | readonly PemInput[] | undefined;
}

const TLS_OPTION_KEYS = optionKeys<TlsClientOptions>()(['cert', 'key', 'ca']);

/** The validated options: PEM text only, kept inside the `fetch` made from them. */
export interface ResolvedTls {
  cert: string;
  key: string;
  ca: string[] | undefined;
}

const decoder = new TextDecoder();

/** Far above any certificate chain or key: longer values are refused unread. */
const maxPemLength = 1024 * 1024;

const privateKeyLabels = ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'];

/** The labels of the PEM blocks in `text`, or `undefined` if it is not only PEM blocks. */
function pemLabels(text: string): string[] | undefined {
  if (text.length > maxPemLength) return undefined;
  const block = /-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n(?:(?!-----)[\s\S])*-----END \1-----/g;
  const labels: string[] = [];
  let rest = '';
  let last = 0;
  for (const match of text.matchAll(block)) {
    rest += text.slice(last, match.index);
    last = match.index + match[0].length;
    labels.push(match[1]!);
  }
  rest += text.slice(last);
  // Text between blocks (OpenSSL's "Bag Attributes" lines, comments) is allowed, as node:tls
  // allows it; what is not allowed is a value with no block at all.
  return labels.length === 0 || rest.includes('-----') ? undefined : labels;
}

function describePem(labels: readonly string[] | undefined): string {
  if (labels === undefined) return 'no PEM block, or a broken one';
  if (labels.some((label) => privateKeyLabels.includes(label) || label.endsWith('PRIVATE KEY'))) {
    return 'a private key';
  }
  return labels.map((label) => `a ${label} block`).join(', ');
}

function pemText(value: unknown, option: string, where: string): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return decoder.decode(value);
  throw new OptionError(
    `${where}: \`${option}\` must be PEM text (a string or a Buffer), not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}`,
    'ERR_INVALID_OPTION',
    option,
  );
}

function certificates(value: unknown, option: string, where: string): string {
  const text = pemText(value, option, where);
  const labels = pemLabels(text);
  if (labels === undefined || labels.some((label) => label !== 'CERTIFICATE')) {
    throw new OptionError(
      `${where}: \`${option}\` must be PEM CERTIFICATE blocks; found ${describePem(labels)}`,
      'ERR_INVALID_OPTION',
      option,
    );
  }
  return text;
}

function privateKey(value: unknown, where: string, name: string): string {
  const text = pemText(value, `${name}.key`, where);
  const labels = pemLabels(text);
  const refuse = (found: string) =>
    new OptionError(
      `${where}: \`${name}.key\` must be one unencrypted PEM private key; found ${found}`,
      'ERR_INVALID_OPTION',
      `${name}.key`,
    );
  if (labels === undefined) throw refuse('no PEM block, or a broken one');
  if (labels.length !== 1) throw refuse(`${labels.length} PEM blocks`);
  const [label] = labels as [string];
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(text)) {
    throw refuse('an encrypted key (decrypt it first, for example with `openssl pkey`)');
  }
  if (!privateKeyLabels.includes(label)) throw refuse(`a ${label} block`);
  return text;
}

interface NodeCrypto {
  X509Certificate: new (pem: string) => { checkPrivateKey(key: unknown): boolean };
  createPrivateKey(pem: string): unknown;
}

/**
 * Catches a certificate and key that do not belong together here, instead of as a TLS alert
 * from the server. Where `node:crypto` cannot be had, the handshake is the check.
 */
function checkKeyPair(resolved: ResolvedTls, where: string, name: string): void {
  const crypto = builtinModule('node:crypto') as NodeCrypto | undefined;
  if (crypto === undefined) return;
  let matches: boolean;
  try {
    matches = new crypto.X509Certificate(resolved.cert).checkPrivateKey(
      crypto.createPrivateKey(resolved.key),
    );
  } catch {
    // The messages of OpenSSL name no key material, but nothing of a key's parsing is passed on.
    throw new OptionError(
      `${where}: \`${name}.cert\` and \`${name}.key\` could not be read as a certificate and its private key`,
      'ERR_INVALID_OPTION',
      name,
    );
  }
  if (!matches) {
    throw new OptionError(
      `${where}: \`${name}.key\` is not the private key of the certificate in \`${name}.cert\``,
      'ERR_INVALID_OPTION',
      `${name}.key`,
    );
  }
}

/**
 * Validates the `tls` option: an object with `cert` and `key` (and optionally `ca`) as PEM, no
 * other key. Throws an `OptionError` naming the member and what was found in it (the kind of
 * PEM block, never its content). `name` is how the option is spelt where it was given.
 */
export function resolveTlsOptions(tls: unknown, where: string, name = 'tls'): ResolvedTls {
  rejectUnknownOptions(tls, TLS_OPTION_KEYS, where, name);
  const options = tls as Partial<Record<keyof TlsClientOptions, unknown>>;
  if (options.cert === undefined) {
    throw new OptionError(
      `${where}: \`${name}.cert\` is required`,
      'ERR_INVALID_OPTION',
      `${name}.cert`,
    );
  }
  if (options.key === undefined) {
    throw new OptionError(
      `${where}: \`${name}.key\` is required`,
      'ERR_INVALID_OPTION',
      `${name}.key`,
    );
  }
  const cert = certificates(options.cert, `${name}.cert`, where);
  const key = privateKey(options.key, where, name);
  let ca: string[] | undefined;
  if (options.ca !== undefined) {
    const list: readonly unknown[] = Array.isArray(options.ca) ? options.ca : [options.ca];
    if (list.length === 0) {
      throw new OptionError(
        `${where}: \`${name}.ca\` must hold at least one certificate; leave it out to trust the default set`,
        'ERR_INVALID_OPTION',
        `${name}.ca`,
      );
    }
    ca = list.map((entry, index) =>
      certificates(entry, Array.isArray(options.ca) ? `${name}.ca[${index}]` : `${name}.ca`, where),
    );
  }
  const resolved = { cert, key, ca };
  checkKeyPair(resolved, where, name);
  return resolved;
}
