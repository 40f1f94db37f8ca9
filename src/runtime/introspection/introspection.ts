import * as schemas from '../../generated/schemas.js';
import {
  optionalBoolean,
  optionalPositiveNumber,
  optionKeys,
  rejectUnknownOptions,
  requireString,
  resolveFetch,
  type FetchLike,
} from '../shared/options.js';
import { applyAliases } from '../shared/aliases.js';
import { requireHttpUrl } from '../shared/url.js';
import {
  discover,
  publishedEndpoint,
  type AuthorizationServerMetadata,
  type EndpointName,
} from '../transport/discovery.js';
import { basicCredentials } from '../transport/form.js';
import {
  createIdpClient,
  DEFAULT_MAX_RESPONSE_BYTES,
  exchange,
  parseBody,
  toOAuthError,
  type IdpCall,
  type IdpClient,
} from '../transport/idp-client.js';

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
const INTROSPECT_TOKEN_OPTION_KEYS = optionKeys<IntrospectTokenOptions>()([
  ...CALLER_OPTION_KEYS,
  'introspectionEndpoint',
]);

/** Options of {@link revokeToken}. */
export interface RevokeTokenOptions extends CallerOptions {
  /** The revocation endpoint; skips discovery. */
  revocationEndpoint?: string | undefined;
}

/** Every option of {@link RevokeTokenOptions}; the compiler keeps the list complete. */
const REVOKE_TOKEN_OPTION_KEYS = optionKeys<RevokeTokenOptions>()([
  ...CALLER_OPTION_KEYS,
  'revocationEndpoint',
]);

/**
 * An RFC 7662 §2.2 introspection response: `active`, and for an active token its claims
 * (`scope`, `client_id`, `exp`, `aud`, `cnf`, and whatever else the server adds). An inactive
 * token's answer is `{ active: false }` and nothing more.
 *
 * The same document as `IntrospectionResponse` in `openapi.yaml`, written out so each member
 * has its documentation; a type test holds the two together.
 */
export interface IntrospectionResult {
  /** Whether the token is active: issued by this server, not expired, not revoked. */
  active: boolean;
  /** Granted scopes, space-separated. */
  scope?: string;
  /** The client the token was issued to. */
  client_id?: string;
  /** A human-readable identifier of the resource owner, when there is one. */
  username?: string;
  /** The token's type, e.g. `Bearer` or `DPoP`. */
  token_type?: string;
  /** Expiry, in seconds since the epoch. */
  exp?: number;
  /** Issued-at, in seconds since the epoch. */
  iat?: number;
  /** Not-before, in seconds since the epoch. */
  nbf?: number;
  /** The subject: the client itself for a client-credentials token. */
  sub?: string;
  /** The audience(s) the token is for. */
  aud?: string | string[];
  /** The issuer. */
  iss?: string;
  /** The token's unique identifier. */
  jti?: string;
  /** Confirmation (RFC 7800 §3.1); `jkt` binds the token to a DPoP key (RFC 9449 §6.1). */
  cnf?: { jkt?: string; 'x5t#S256'?: string; [member: string]: unknown };
  [claim: string]: unknown;
}

/** Discovery documents shared by the standalone functions, per fetch and issuer. */
const sharedDiscovery = new WeakMap<FetchLike, Map<string, Promise<AuthorizationServerMetadata>>>();
const maxIssuersPerFetch = 32;

function discoverShared(
  fetch: FetchLike,
  client: IdpClient,
  issuer: string,
  timeoutMs: number,
): Promise<AuthorizationServerMetadata> {
  let byIssuer = sharedDiscovery.get(fetch);
  if (!byIssuer) sharedDiscovery.set(fetch, (byIssuer = new Map()));
  const known = byIssuer.get(issuer);
  if (known) return known;
  const pending = discover(client, issuer, timeoutMs).catch((error: unknown) => {
    byIssuer.delete(issuer);
    throw error;
  });
  byIssuer.set(issuer, pending);
  if (byIssuer.size > maxIssuersPerFetch) byIssuer.delete(byIssuer.keys().next().value as string);
  return pending;
}

interface Prepared {
  call: IdpCall;
  headers: Record<string, string>;
  body: { token: string; token_type_hint?: string; client_id?: string; client_secret?: string };
}

/** The caller's options, checked, with defaults filled in. */
interface ResolvedCallerOptions {
  clientId: string;
  clientSecret: string;
  token: string;
  clientAuth: TokenEndpointClientAuth;
  tokenTypeHint: string | undefined;
  timeoutMs: number;
  fetch: FetchLike;
  signal: AbortSignal | undefined;
  issuer: string | undefined;
  /** The endpoint option, when given: discovery is skipped. */
  endpoint: string | undefined;
  /** Plain `http:` to hosts other than loopback is accepted (for discovered endpoints too). */
  allowInsecureHttp: boolean;
  maxResponseBytes: number;
}

function resolveCallerOptions(
  options: unknown,
  where: string,
  known: readonly string[],
  endpointOption: 'introspectionEndpoint' | 'revocationEndpoint',
): ResolvedCallerOptions {
  rejectUnknownOptions(options, known, where);
  const o = applyAliases(options, { fetchImpl: 'fetch' }, where) as Partial<
    Record<keyof IntrospectTokenOptions | keyof RevokeTokenOptions, unknown>
  >;
  const clientId = requireString(o.clientId, 'clientId', where);
  const clientSecret = requireString(o.clientSecret, 'clientSecret', where);
  const token = requireString(o.token, 'token', where);
  const clientAuth = o.clientAuth ?? 'client_secret_basic';
  if (clientAuth !== 'client_secret_basic' && clientAuth !== 'client_secret_post') {
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

async function prepare(
  options: unknown,
  where: string,
  known: readonly string[],
  endpoint: EndpointName,
  label: string,
): Promise<Prepared> {
  const resolved = resolveCallerOptions(
    options,
    where,
    known,
    endpoint === 'introspection_endpoint' ? 'introspectionEndpoint' : 'revocationEndpoint',
  );
  const { clientId, clientSecret, token, clientAuth, timeoutMs, fetch, maxResponseBytes } =
    resolved;
  const client = createIdpClient(fetch, { maxResponseBytes });

  let url: string;
  if (resolved.endpoint !== undefined) {
    url = resolved.endpoint;
  } else {
    // resolveCallerOptions makes sure one of the two is given.
    const issuer = resolved.issuer as string;
    const metadata = await discoverShared(fetch, client, issuer, timeoutMs);
    url = publishedEndpoint(metadata, endpoint, resolved.allowInsecureHttp);
  }

  return {
    call: {
      client,
      url,
      endpoint: label,
      timeoutMs,
      secrets: [clientSecret, token],
      signal: resolved.signal,
    },
    ...callerForm({
      clientId,
      clientSecret,
      clientAuth,
      token,
      tokenTypeHint: resolved.tokenTypeHint,
    }),
  };
}

/** The headers and form body of a caller's request about one token (RFC 7662 §2.1, RFC 7009 §2.1). */
function callerForm(caller: {
  clientId: string;
  clientSecret: string;
  clientAuth: TokenEndpointClientAuth;
  token: string;
  tokenTypeHint: string | undefined;
}): Pick<Prepared, 'headers' | 'body'> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Accept: 'application/json',
  };
  const body: Prepared['body'] = { token: caller.token };
  if (caller.tokenTypeHint !== undefined) body.token_type_hint = caller.tokenTypeHint;
  if (caller.clientAuth === 'client_secret_basic') {
    headers.Authorization = basicCredentials(caller.clientId, caller.clientSecret);
  } else {
    Object.assign(body, { client_id: caller.clientId, client_secret: caller.clientSecret });
  }
  return { headers, body };
}

/** Sends a prepared introspection request and validates the answer (RFC 7662 §2.2). */
async function sendIntrospection({ call, headers, body }: Prepared): Promise<IntrospectionResult> {
  const answer = await exchange(call, (middleware) =>
    call.client.POST('/token/introspection', { body, headers, parseAs: 'text', middleware }),
  );
  if (!answer.response.ok) throw toOAuthError(answer, call);
  return parseBody(answer, schemas.IntrospectionResponse, call);
}

/** One introspection request whose endpoint is already known: what a resource server sends. */
export interface IntrospectionRequest {
  client: IdpClient;
  /** The introspection endpoint. */
  url: string;
  clientId: string;
  clientSecret: string;
  clientAuth: TokenEndpointClientAuth;
  token: string;
  tokenTypeHint: string | undefined;
  timeoutMs: number;
}

/**
 * Asks an introspection endpoint about a token, with the same request, secret scrubbing and
 * answer validation as {@link introspectToken}, for a caller that resolved the endpoint and
 * checked its options itself.
 */
export function requestIntrospection(request: IntrospectionRequest): Promise<IntrospectionResult> {
  const { client, url, clientSecret, token, timeoutMs } = request;
  return sendIntrospection({
    call: {
      client,
      url,
      endpoint: 'introspection endpoint',
      timeoutMs,
      secrets: [clientSecret, token],
    },
    ...callerForm(request),
  });
}

/**
 * Asks the authorization server whether a token is active (RFC 7662). Use it where revocation
 * must take effect at once; local JWT verification is faster but cannot see revocation.
 *
 * Never throws because a token is inactive: that is `{ active: false }`. Throws
 * `OAuthError` when the server rejects the caller (`invalid_client`), `NetworkError` when it
 * cannot be reached, `ProtocolError` when its answer breaks RFC 7662.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 * @example
 * ```ts
 * import { introspectToken } from 's2s-auth/server';
 *
 * const result = await introspectToken({
 *   issuer: 'https://idp.example.com',
 *   clientId: 'orders-api',
 *   clientSecret: process.env.ORDERS_API_SECRET,
 *   token,
 * });
 * if (!result.active) return new Response(null, { status: 401 });
 * ```
 */
export async function introspectToken(
  options: IntrospectTokenOptions,
): Promise<IntrospectionResult> {
  return sendIntrospection(
    await prepare(
      options,
      'introspectToken',
      INTROSPECT_TOKEN_OPTION_KEYS,
      'introspection_endpoint',
      'introspection endpoint',
    ),
  );
}

/**
 * Revokes a token (RFC 7009). Resolves when the server answered 200, which it does for an
 * already invalid token too. Throws `OAuthError` when the server refuses (for example
 * `unsupported_token_type` for self-contained JWTs), `NetworkError` when it cannot be reached.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 * @example
 * ```ts
 * import { revokeToken } from 's2s-auth/server';
 *
 * await revokeToken({
 *   issuer: 'https://idp.example.com',
 *   clientId: 'billing-service',
 *   clientSecret: process.env.BILLING_CLIENT_SECRET,
 *   token: leakedToken,
 *   tokenTypeHint: 'access_token',
 * });
 * ```
 */
export async function revokeToken(options: RevokeTokenOptions): Promise<void> {
  const { call, headers, body } = await prepare(
    options,
    'revokeToken',
    REVOKE_TOKEN_OPTION_KEYS,
    'revocation_endpoint',
    'revocation endpoint',
  );
  const answer = await exchange(call, (middleware) =>
    call.client.POST('/token/revocation', { body, headers, parseAs: 'text', middleware }),
  );
  if (!answer.response.ok) throw toOAuthError(answer, call);
}
