/**
 * The options of {@link introspectToken} and {@link revokeToken}, which share a caller part
 * (credentials, the token, transport), and their check.
 */
import { applyAliases } from '../shared/aliases.js';
import {
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
import type { introspectToken, revokeToken } from './introspection.js';

/** How the caller authenticates to the introspection and revocation endpoints. */
export type TokenEndpointClientAuth = 'client_secret_basic' | 'client_secret_post';

interface CallerOptions {
  /** The issuer; its discovery document names the endpoint. */
  issuer?: string | undefined;
  /** The caller's client id. */
  clientId: string;
  /** The caller's client secret. */
  clientSecret: string;
  /** How to send the credentials. Default `'client_secret_basic'`. */
  clientAuth?: TokenEndpointClientAuth | undefined;
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
  return value === 'client_secret_basic' || value === 'client_secret_post';
}

/** Every option of the caller part; the compiler keeps the list complete. */
const CALLER_OPTION_KEYS = optionKeys<CallerOptions>()([
  'issuer',
  'clientId',
  'clientSecret',
  'clientAuth',
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
  const clientSecret = requireString(o.clientSecret, 'clientSecret', where);
  const token = requireString(o.token, 'token', where);
  const clientAuth = o.clientAuth ?? 'client_secret_basic';
  if (!isTokenEndpointClientAuth(clientAuth)) {
    throw new TypeError(
      `${where}: \`clientAuth\` must be client_secret_basic or client_secret_post`,
    );
  }
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
  return {
    clientId,
    clientSecret,
    token,
    clientAuth,
    tokenTypeHint,
    timeoutMs,
    fetch,
    signal: o.signal,
    issuer,
    endpoint,
    allowInsecureHttp,
    maxResponseBytes,
  };
}

/** A caller's options, checked, with defaults filled in. */
export type ResolvedCallerOptions = ReturnType<typeof resolveCallerOptions>;
