/**
 * The options of {@link introspectToken} and {@link revokeToken}, which share a caller part
 * (credentials, the token, transport), and their check.
 */
import { applyAliases } from '../shared/aliases.js';
import {
  OptionError,
  optionalBoolean,
  optionalPositiveNumber,
  optionKeys,
  rejectUnknownOptions,
  requireString,
  resolveFetch,
  type FetchLike,
} from '../shared/options.js';
import { requireHttpUrl } from '../shared/url.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../transport/idp-client.js';
import { isMtlsClientAuth, resolveMtlsOption, type MtlsFetch } from '../transport/mtls.js';
import type { TlsClientOptions } from '../transport/tls-options.js';
import type { introspectToken, revokeToken } from './introspection.js';

/**
 * How the caller authenticates to the introspection and revocation endpoints: with its client
 * secret (RFC 6749 §2.3.1), or with its TLS client certificate (RFC 8705 §2).
 */
export type TokenEndpointClientAuth =
  'client_secret_basic' | 'client_secret_post' | 'tls_client_auth' | 'self_signed_tls_client_auth';

const tokenEndpointClientAuths: readonly TokenEndpointClientAuth[] = [
  'client_secret_basic',
  'client_secret_post',
  'tls_client_auth',
  'self_signed_tls_client_auth',
];

interface CallerOptions {
  /** The issuer; its discovery document names the endpoint. */
  issuer?: string | undefined;
  /** The caller's client id. */
  clientId: string;
  /**
   * The caller's client secret: required with `client_secret_basic` and `client_secret_post`,
   * refused with the TLS methods (it would be sent nowhere).
   */
  clientSecret?: string | undefined;
  /**
   * How the caller authenticates. Default `'client_secret_basic'`. With `'tls_client_auth'` or
   * `'self_signed_tls_client_auth'` (RFC 8705 §2) the request goes over mutual TLS with the
   * certificate of `tls` (or through a `fetch` that presents one), names the client by
   * `client_id` only, and is sent to the discovery document's
   * `mtls_endpoint_aliases.introspection_endpoint` (or `revocation_endpoint`) where it has one
   * (RFC 8705 §5).
   */
  clientAuth?: TokenEndpointClientAuth | undefined;
  /**
   * The client certificate and key (PEM) for the TLS methods: the request is sent over a
   * connection presenting them (Node, with the optional peer `undici`). Leave it out and pass a
   * `fetch` that presents the certificate on runtimes that do mutual TLS their own way; giving
   * both is refused. Each call opens its own connections (discovery included, unless the
   * endpoint is given) and closes them when it settles.
   *
   * @see https://www.rfc-editor.org/rfc/rfc8705#section-2
   */
  tls?: TlsClientOptions | undefined;
  /** The token in question. */
  token: string;
  /** `'access_token'` or `'refresh_token'`: a hint to the server, nothing more. */
  tokenTypeHint?: string | undefined;
  /** The fetch to use. Default `globalThis.fetch`. */
  fetch?: FetchLike | undefined;
  /** Another name for `fetch`, as the seed product spelt it; give one or the other. */
  fetchImpl?: FetchLike | undefined;
  /** Timeout of the request (and of discovery), in ms. Default 10 000. */
  timeoutMs?: number | undefined;
  /** Aborts the request: the call rejects with a `NetworkError`. */
  signal?: AbortSignal | undefined;
  /**
   * Accept plain `http:` for `issuer` and the endpoint (given or discovered) on hosts that are
   * not loopback. Dangerous: the client secret and the token travel in the clear. Loopback
   * (`localhost`, `127.0.0.0/8`, `[::1]`) is allowed without it. Default `false`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.1
   * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
   */
  allowInsecureHttp?: boolean | undefined;
  /**
   * The most bytes of an answer's body (discovery document, introspection answer, error) that
   * are read; a longer one is cancelled and the call rejects with a `ProtocolError` whose code
   * is `too_large`. Default 1 MiB (1 048 576).
   */
  maxResponseBytes?: number | undefined;
}

/** Whether `value` names a way {@link TokenEndpointClientAuth} knows. */
export function isTokenEndpointClientAuth(value: unknown): value is TokenEndpointClientAuth {
  return (tokenEndpointClientAuths as readonly unknown[]).includes(value);
}

/** What the TLS methods need of a caller's options. */
export interface CallerCredentialOptions {
  clientAuth: unknown;
  clientSecret: unknown;
  tls: unknown;
  /** Whether a `fetch` of the caller's own was given. */
  fetchGiven: boolean;
}

/** How {@link resolveCallerCredentials} names the options in its errors. */
export interface CallerCredentialNames {
  /** Prefix of the option names: `''`, or `'introspection.'` on a resource server. */
  readonly prefix: string;
  /** Whether the `fetch` made for `tls` replaces the caller's `fetch` (see `resolveMtlsOption`). */
  readonly replacesFetch: boolean;
}

/**
 * Checks how a caller authenticates: the method, the client secret it needs (or must not have)
 * and the `tls` option against `fetch`. `mtlsFetch` is the `fetch` made for `tls`; `mtls` says
 * the TLS connection authenticates, so the endpoints come from `mtls_endpoint_aliases`.
 */
export function resolveCallerCredentials(
  options: CallerCredentialOptions,
  where: string,
  names: CallerCredentialNames = { prefix: '', replacesFetch: true },
): {
  clientAuth: TokenEndpointClientAuth;
  clientSecret: string | undefined;
  mtls: boolean;
  mtlsFetch: MtlsFetch | undefined;
} {
  const { prefix } = names;
  const clientAuth = options.clientAuth ?? 'client_secret_basic';
  if (!isTokenEndpointClientAuth(clientAuth)) {
    throw new OptionError(
      `${where}: \`${prefix}clientAuth\` must be one of ${tokenEndpointClientAuths.join(', ')}`,
      'ERR_INVALID_OPTION',
      `${prefix}clientAuth`,
    );
  }
  const mtls = isMtlsClientAuth(clientAuth);
  let clientSecret: string | undefined;
  if (!mtls) {
    clientSecret = requireString(options.clientSecret, `${prefix}clientSecret`, where);
  } else if (options.clientSecret !== undefined) {
    throw new OptionError(
      `${where}: \`${prefix}clientSecret\` is not used by ${clientAuth}, which authenticates with the client certificate; remove it`,
      'ERR_INVALID_OPTION',
      `${prefix}clientSecret`,
    );
  }
  const mtlsFetch = resolveMtlsOption(
    { clientAuth, tls: options.tls, fetchGiven: options.fetchGiven },
    where,
    {
      tls: `${prefix}tls`,
      clientAuth: `${prefix}clientAuth`,
      replacesFetch: names.replacesFetch,
    },
  );
  return { clientAuth, clientSecret, mtls, mtlsFetch };
}

/** Every option of the caller part; the compiler keeps the list complete. */
const CALLER_OPTION_KEYS = optionKeys<CallerOptions>()([
  'issuer',
  'clientId',
  'clientSecret',
  'clientAuth',
  'tls',
  'token',
  'tokenTypeHint',
  'fetch',
  'fetchImpl',
  'timeoutMs',
  'signal',
  'allowInsecureHttp',
  'maxResponseBytes',
]);

/** Options of {@link introspectToken}. */
export interface IntrospectTokenOptions extends CallerOptions {
  /** The introspection endpoint; skips discovery. */
  introspectionEndpoint?: string | undefined;
}

/** Every option of {@link IntrospectTokenOptions}; the compiler keeps the list complete. */
export const INTROSPECT_TOKEN_OPTION_KEYS = optionKeys<IntrospectTokenOptions>()([
  ...CALLER_OPTION_KEYS,
  'introspectionEndpoint',
]);

/** Options of {@link revokeToken}. */
export interface RevokeTokenOptions extends CallerOptions {
  /** The revocation endpoint; skips discovery. */
  revocationEndpoint?: string | undefined;
}

/** Every option of {@link RevokeTokenOptions}; the compiler keeps the list complete. */
export const REVOKE_TOKEN_OPTION_KEYS = optionKeys<RevokeTokenOptions>()([
  ...CALLER_OPTION_KEYS,
  'revocationEndpoint',
]);

/**
 * Checks a caller's options (a bad one is a `TypeError` naming it) and fills in the defaults.
 * `endpointOption` names the option that gives the endpoint and skips discovery.
 */
export function resolveCallerOptions(
  options: unknown,
  where: string,
  known: readonly string[],
  endpointOption: 'introspectionEndpoint' | 'revocationEndpoint',
) {
  rejectUnknownOptions(options, known, where);
  const o = applyAliases(options, { fetchImpl: 'fetch' }, where) as Partial<
    Record<keyof IntrospectTokenOptions | keyof RevokeTokenOptions, unknown>
  >;
  const clientId = requireString(o.clientId, 'clientId', where);
  const token = requireString(o.token, 'token', where);
  const tokenTypeHint =
    o.tokenTypeHint === undefined
      ? undefined
      : requireString(o.tokenTypeHint, 'tokenTypeHint', where);
  const timeoutMs = optionalPositiveNumber(o.timeoutMs, 'timeoutMs', where, 10_000);
  const fetch = resolveFetch(o.fetch as FetchLike | undefined, where);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError(`${where}: \`signal\` must be an AbortSignal`);
  }
  const maxResponseBytes = optionalPositiveNumber(
    o.maxResponseBytes,
    'maxResponseBytes',
    where,
    DEFAULT_MAX_RESPONSE_BYTES,
  );
  const allowInsecureHttp = optionalBoolean(o.allowInsecureHttp, 'allowInsecureHttp', where, false);
  const urls = { allowInsecureHttp };
  const explicit = o[endpointOption];
  const endpoint =
    explicit === undefined ? undefined : requireHttpUrl(explicit, endpointOption, where, urls);
  const issuer =
    o.issuer === undefined ? undefined : requireHttpUrl(o.issuer, 'issuer', where, urls);
  if (endpoint === undefined && issuer === undefined) {
    throw new TypeError(`${where}: \`issuer\` or the endpoint URL is required`);
  }
  // Last: the `fetch` made for `tls` is the only thing here that holds resources.
  const { clientAuth, clientSecret, mtls, mtlsFetch } = resolveCallerCredentials(
    {
      clientAuth: o.clientAuth,
      clientSecret: o.clientSecret,
      tls: o.tls,
      fetchGiven: o.fetch !== undefined,
    },
    where,
  );
  return {
    clientId,
    clientSecret,
    token,
    clientAuth,
    tokenTypeHint,
    timeoutMs,
    /** The caller's `fetch`; every request goes through `mtlsFetch` instead when there is one. */
    fetch,
    mtls,
    mtlsFetch,
    signal: o.signal,
    issuer,
    endpoint,
    allowInsecureHttp,
    maxResponseBytes,
  };
}

/** A caller's options, checked, with defaults filled in. */
export type ResolvedCallerOptions = ReturnType<typeof resolveCallerOptions>;
