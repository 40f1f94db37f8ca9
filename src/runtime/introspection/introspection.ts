import * as schemas from '../../generated/schemas.js';
import {
  optionalPositiveNumber,
  requireHttpUrl,
  requireString,
  resolveFetch,
  type FetchLike,
} from '../shared/options.js';
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
  issuer?: string;
  /** The caller's client id. */
  clientId: string;
  /** The caller's client secret. */
  clientSecret: string;
  /** How to send the credentials. Default `'client_secret_basic'`. */
  clientAuth?: TokenEndpointClientAuth;
  /** The token in question. */
  token: string;
  /** `'access_token'` or `'refresh_token'`: a hint to the server, nothing more. */
  tokenTypeHint?: string;
  /** The fetch to use. Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Timeout of the request (and of discovery), in ms. Default 10 000. */
  timeoutMs?: number;
  /** Aborts the request: the call rejects with a `NetworkError`. */
  signal?: AbortSignal;
  /**
   * The most bytes of an answer's body (discovery document, introspection answer, error) that
   * are read; a longer one is cancelled and the call rejects with a `ProtocolError` whose code
   * is `too_large`. Default 1 MiB (1 048 576).
   */
  maxResponseBytes?: number;
}

/** Options of {@link introspectToken}. */
export interface IntrospectTokenOptions extends CallerOptions {
  /** The introspection endpoint; skips discovery. */
  introspectionEndpoint?: string;
}

/** Options of {@link revokeToken}. */
export interface RevokeTokenOptions extends CallerOptions {
  /** The revocation endpoint; skips discovery. */
  revocationEndpoint?: string;
}

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

async function prepare(
  options: CallerOptions,
  where: string,
  endpoint: EndpointName,
  explicit: string | undefined,
  label: string,
): Promise<Prepared> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`${where}: options are required`);
  const clientId = requireString(options.clientId, 'clientId', where);
  const clientSecret = requireString(options.clientSecret, 'clientSecret', where);
  const token = requireString(options.token, 'token', where);
  const clientAuth = options.clientAuth ?? 'client_secret_basic';
  if (clientAuth !== 'client_secret_basic' && clientAuth !== 'client_secret_post') {
    throw new TypeError(
      `${where}: \`clientAuth\` must be client_secret_basic or client_secret_post`,
    );
  }
  if (options.tokenTypeHint !== undefined)
    requireString(options.tokenTypeHint, 'tokenTypeHint', where);
  const timeoutMs = optionalPositiveNumber(options.timeoutMs, 'timeoutMs', where, 10_000);
  const fetch = resolveFetch(options.fetch, where);
  const maxResponseBytes = optionalPositiveNumber(
    options.maxResponseBytes,
    'maxResponseBytes',
    where,
    DEFAULT_MAX_RESPONSE_BYTES,
  );
  const client = createIdpClient(fetch, { maxResponseBytes });

  let url: string;
  if (explicit !== undefined) {
    url = requireHttpUrl(
      explicit,
      endpoint === 'introspection_endpoint' ? 'introspectionEndpoint' : 'revocationEndpoint',
      where,
    );
  } else {
    if (options.issuer === undefined) {
      throw new TypeError(`${where}: \`issuer\` or the endpoint URL is required`);
    }
    const issuer = requireHttpUrl(options.issuer, 'issuer', where);
    const metadata = await discoverShared(fetch, client, issuer, timeoutMs);
    url = publishedEndpoint(metadata, endpoint, false);
  }

  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Accept: 'application/json',
  };
  const body: Prepared['body'] = { token };
  if (options.tokenTypeHint !== undefined) body.token_type_hint = options.tokenTypeHint;
  if (clientAuth === 'client_secret_basic')
    headers.Authorization = basicCredentials(clientId, clientSecret);
  else Object.assign(body, { client_id: clientId, client_secret: clientSecret });

  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(`${where}: \`signal\` must be an AbortSignal`);
  }
  return {
    call: {
      client,
      url,
      endpoint: label,
      timeoutMs,
      secrets: [clientSecret, token],
      signal: options.signal,
    },
    headers,
    body,
  };
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
  const { call, headers, body } = await prepare(
    options,
    'introspectToken',
    'introspection_endpoint',
    options?.introspectionEndpoint,
    'introspection endpoint',
  );
  const answer = await exchange(call, (middleware) =>
    call.client.POST('/token/introspection', { body, headers, parseAs: 'text', middleware }),
  );
  if (!answer.response.ok) throw toOAuthError(answer, call);
  return parseBody(answer, schemas.IntrospectionResponse, call);
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
    'revocation_endpoint',
    options?.revocationEndpoint,
    'revocation endpoint',
  );
  const answer = await exchange(call, (middleware) =>
    call.client.POST('/token/revocation', { body, headers, parseAs: 'text', middleware }),
  );
  if (!answer.response.ok) throw toOAuthError(answer, call);
}
