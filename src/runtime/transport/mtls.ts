/**
 * Mutual TLS to the authorization server (RFC 8705): a `fetch` that presents a client
 * certificate, the check of the options that ask for one, and the RFC 8705 §5 choice of
 * endpoints to send it to. The token client and introspection (`introspectToken`, a resource
 * server's `introspection`) share it.
 *
 * On Node the certificate goes on an undici `Agent` (`connect: { cert, key, ca }`) handed as
 * `dispatcher` to undici's own `fetch`: the same HTTP client Node's global `fetch` is built on,
 * so requests behave as they do everywhere else in the SDK (streaming bodies, redirects as the
 * request asks, decompression, keep-alive), and agent and `fetch` come from one version of
 * undici (Node 20 bundles undici 6, whose global `fetch` is not promised to drive an agent of
 * another major version). undici is an optional peer, loaded on first use by a specifier in a
 * variable, so the default build imports nothing from `node:` or undici. Runtimes whose `fetch`
 * cannot present a client certificate this way get a {@link MtlsUnavailableError} telling the
 * user to pass a `fetch` that does mTLS.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705
 */
import { MtlsUnavailableError } from '../errors.js';
import { builtinModule, hasBuiltinModules } from '../shared/builtin-module.js';
import {
  OptionError,
  optionKeys,
  rejectUnknownOptions,
  type FetchLike,
} from '../shared/options.js';

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

/** A `fetch` presenting a client certificate, and `close()` for its connections. */
export interface MtlsFetch extends FetchLike {
  /** Closes the pooled connections; later requests open new ones. */
  close(): Promise<void>;
}

/** The validated options: PEM text only, kept inside the `fetch` made from them. */
interface ResolvedTls {
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

interface UndiciAgent {
  close(): Promise<void>;
}

interface Undici {
  Agent: new (options: { connect: Record<string, unknown> }) => UndiciAgent;
  fetch(input: string, init: Record<string, unknown>): Promise<Response>;
}

function unavailable(why: string, cause?: unknown): MtlsUnavailableError {
  return new MtlsUnavailableError(
    `the \`tls\` option cannot present a client certificate here: ${why}; pass a \`fetch\` that does mutual TLS instead`,
    cause === undefined ? undefined : { cause },
  );
}

async function loadUndici(): Promise<Undici> {
  let module: Partial<Undici>;
  try {
    // Loaded with Node's require at run time, found from this file: no `import()` of a
    // computed name, which Workers' module loaders refuse in the whole bundle, and bundlers
    // leave the optional peer alone.
    const nodeModule = builtinModule('node:module') as
      { createRequire: (from: string) => (id: string) => unknown } | undefined;
    if (nodeModule === undefined) throw new TypeError('no Node module loader');
    const from = typeof __filename === 'string' ? __filename : import.meta.url;
    module = (await Promise.resolve(nodeModule.createRequire(from)('undici'))) as Partial<Undici>;
  } catch (error) {
    throw unavailable('the optional peer `undici` is not installed (npm install undici)', error);
  }
  if (typeof module.Agent !== 'function' || typeof module.fetch !== 'function') {
    throw unavailable('the `undici` module found has no `Agent` and `fetch`');
  }
  return module as Undici;
}

/**
 * Which runtime cannot take a client certificate through undici, or `undefined` on Node. Bun
 * and Deno have `process.getBuiltinModule` and an `undici` module of their own, but present
 * client certificates through options of their own `fetch`: an agent there would send none.
 */
function unsupportedRuntime(): string | undefined {
  const runtime = globalThis as { Bun?: unknown; Deno?: unknown };
  if (runtime.Bun !== undefined) return 'Bun takes client certificates in `fetch(url, { tls })`';
  if (runtime.Deno !== undefined) {
    return 'Deno takes client certificates through `Deno.createHttpClient({ cert, key })`';
  }
  if (!hasBuiltinModules()) return 'this runtime has no Node.js built-in modules';
  return undefined;
}

/**
 * A `fetch` that presents the client certificate of `tls` on every connection (RFC 8705 §2),
 * for the token, introspection and revocation requests (sent to the `mtls_endpoint_aliases`,
 * see {@link mtlsEndpointMetadata}) and for calls to resource servers. `tls` is validated here
 * (`OptionError`); on a runtime that cannot do this, a {@link MtlsUnavailableError} is thrown
 * here, and on Node without `undici`, by the first request.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-2
 * @example
 * ```ts
 * const fetch = createMtlsFetch({ cert: readFileSync('client.pem'), key: readFileSync('client.key') });
 * ```
 */
export function createMtlsFetch(
  tls: TlsClientOptions,
  where = 'createAuthClient',
  name = 'tls',
): MtlsFetch {
  const resolved = resolveTlsOptions(tls, where, name);
  const unsupported = unsupportedRuntime();
  if (unsupported !== undefined) throw unavailable(unsupported);

  let client: Promise<{ fetch: Undici['fetch']; agent: UndiciAgent }> | undefined;
  const connect = () =>
    (client ??= loadUndici().then((undici) => ({
      fetch: (input, init) => undici.fetch(input, init),
      agent: new undici.Agent({
        connect: {
          cert: resolved.cert,
          key: resolved.key,
          ...(resolved.ca === undefined ? {} : { ca: resolved.ca }),
        },
      }),
    })));

  const mtlsFetch = async (input: Request, init?: RequestInit): Promise<Response> => {
    const request = init === undefined ? input : new Request(input, init);
    const { fetch, agent } = await connect();
    // undici's fetch takes its own Request class only; hand it the parts of ours.
    return fetch(request.url, {
      method: request.method,
      headers: [...request.headers],
      ...(request.body === null ? {} : { body: request.body, duplex: 'half' }),
      signal: request.signal,
      redirect: request.redirect,
      keepalive: request.keepalive,
      dispatcher: agent,
    });
  };
  const close = async () => {
    const pending = client;
    client = undefined;
    if (pending !== undefined) await (await pending).agent.close();
  };
  return Object.assign(mtlsFetch, { close });
}

/** Mutual TLS client authentication (RFC 8705 §2): the TLS connection proves who the client is. */
export type MtlsClientAuthMethod = 'tls_client_auth' | 'self_signed_tls_client_auth';

export const mtlsClientAuthMethods: readonly MtlsClientAuthMethod[] = [
  'tls_client_auth',
  'self_signed_tls_client_auth',
];

export function isMtlsClientAuth(method: unknown): method is MtlsClientAuthMethod {
  return (mtlsClientAuthMethods as readonly unknown[]).includes(method);
}

/** What {@link resolveMtlsOption} checks: a caller's `clientAuth`, `tls` and `fetch`. */
export interface MtlsOptionSource {
  clientAuth: string;
  tls: unknown;
  /** Whether the caller gave a `fetch` of its own. */
  fetchGiven: boolean;
}

/** How the options are spelt where they are given (`tls` or `introspection.tls`, …). */
export interface MtlsOptionNames {
  readonly tls: string;
  readonly clientAuth: string;
  /**
   * Whether the `fetch` made for `tls` replaces the caller's `fetch` (the token client,
   * `introspectToken`): then giving both is refused. A resource server keeps its `fetch` for
   * discovery and key sets, and sends only introspection with the certificate.
   */
  readonly replacesFetch: boolean;
}

const defaultNames: MtlsOptionNames = { tls: 'tls', clientAuth: 'clientAuth', replacesFetch: true };

/**
 * Checks `tls` against `clientAuth` and `fetch` (an `OptionError` naming the option otherwise):
 * a certificate authenticates only with a TLS method, a TLS method needs `tls` or a `fetch`
 * that presents the certificate itself (a user's `fetch` cannot be handed one). Returns the
 * `fetch` made for `tls`, or `undefined` when there is none to make.
 */
export function resolveMtlsOption(
  source: MtlsOptionSource,
  where: string,
  names: MtlsOptionNames = defaultNames,
): MtlsFetch | undefined {
  const { clientAuth, tls, fetchGiven } = source;
  if (!isMtlsClientAuth(clientAuth)) {
    if (tls !== undefined) {
      throw new OptionError(
        `${where}: \`${names.tls}\` applies with \`${names.clientAuth}: 'tls_client_auth'\` or 'self_signed_tls_client_auth' only, not ${clientAuth}`,
        'ERR_INVALID_OPTION',
        names.tls,
      );
    }
    return undefined;
  }
  if (tls !== undefined && fetchGiven && names.replacesFetch) {
    throw new OptionError(
      `${where}: give \`${names.tls}\` or a \`fetch\` that presents the client certificate, not both`,
      'ERR_INVALID_OPTION',
      names.tls,
    );
  }
  if (tls === undefined) {
    if (fetchGiven) return undefined;
    throw new OptionError(
      `${where}: \`${names.tls}\` (the client certificate and key) is required for ${clientAuth}, unless \`fetch\` presents the certificate`,
      'ERR_INVALID_OPTION',
      names.tls,
    );
  }
  return createMtlsFetch(tls as TlsClientOptions, where, names.tls);
}

// Endpoint choice is discovery's, used there by the endpoint resolver.
export { mtlsEndpointMetadata } from './discovery.js';
