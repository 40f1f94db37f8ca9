/**
 * Asking the authorization server about a token from anywhere: `introspectToken` (RFC 7662)
 * and `revokeToken` (RFC 7009), with their options checked, the endpoint given or discovered,
 * and the caller's secret and token scrubbed from every error.
 */
import type { EndpointName } from '../transport/discovery.js';
import { createIdpClient } from '../transport/idp-client.js';
import {
  INTROSPECT_TOKEN_OPTION_KEYS,
  resolveCallerOptions,
  REVOKE_TOKEN_OPTION_KEYS,
  type IntrospectTokenOptions,
  type RevokeTokenOptions,
} from './caller-options.js';
import { resolveEndpoint } from './endpoints.js';
import type { IntrospectionResult } from './introspection-result.js';
import { callerForm, sendIntrospection, sendRevocation, type PreparedRequest } from './request.js';

export type {
  IntrospectTokenOptions,
  RevokeTokenOptions,
  TokenEndpointClientAuth,
} from './caller-options.js';
export type { IntrospectionResult } from './introspection-result.js';

/**
 * Checks a caller's options, builds its request (discovering the endpoint if need be) and
 * hands it to `send`. The `fetch` made for `tls` lives for this one call: its connections are
 * closed once the call settled.
 */
async function withRequest<T>(
  options: unknown,
  where: string,
  known: readonly string[],
  endpoint: EndpointName,
  label: string,
  send: (request: PreparedRequest) => Promise<T>,
): Promise<T> {
  const resolved = resolveCallerOptions(
    options,
    where,
    known,
    endpoint === 'introspection_endpoint' ? 'introspectionEndpoint' : 'revocationEndpoint',
  );
  const { clientSecret, token, timeoutMs, maxResponseBytes, mtlsFetch } = resolved;
  try {
    // With `tls`, discovery goes over the same connection: `tls.ca` may be what the server's
    // certificate needs. That fetch is this call's, so its discovery is not shared either.
    const fetch = mtlsFetch ?? resolved.fetch;
    const client = createIdpClient(fetch, { maxResponseBytes });
    const url = await resolveEndpoint({ ...resolved, fetch }, client, endpoint);
    return await send({
      call: {
        client,
        url,
        endpoint: label,
        timeoutMs,
        secrets: [clientSecret, token],
        signal: resolved.signal,
      },
      ...callerForm(resolved),
    });
  } finally {
    await mtlsFetch?.close().catch(() => undefined);
  }
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
  return withRequest(
    options,
    'introspectToken',
    INTROSPECT_TOKEN_OPTION_KEYS,
    'introspection_endpoint',
    'introspection endpoint',
    sendIntrospection,
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
  await withRequest(
    options,
    'revokeToken',
    REVOKE_TOKEN_OPTION_KEYS,
    'revocation_endpoint',
    'revocation endpoint',
    sendRevocation,
  );
}
