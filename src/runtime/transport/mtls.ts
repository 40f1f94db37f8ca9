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
import { OptionError, type FetchLike } from '../shared/options.js';
import { resolveTlsOptions, type TlsClientOptions } from './tls-options.js';

/** A `fetch` presenting a client certificate, and `close()` for its connections. */
export interface MtlsFetch extends FetchLike {
  /** Closes the pooled connections; later requests open new ones. */
  close(): Promise<void>;
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
