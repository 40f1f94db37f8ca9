/**
 * Requests about one token (RFC 7662 §2.1, RFC 7009 §2.1) to an endpoint already known: the
 * form and headers, the exchange, and the validation of an introspection answer (§2.2).
 */
import * as schemas from '../../generated/schemas.js';
import { basicCredentials } from '../shared/form.js';
import { exchange, type IdpCall, type IdpClient } from '../transport/idp-client.js';
import { parseBody, toOAuthError } from '../transport/idp-answer.js';
import type { TokenEndpointClientAuth } from './caller-options.js';
import type { IntrospectionResult } from './introspection-result.js';

/** A request about one token: the call, and its headers and form body. */
export interface PreparedRequest {
  call: IdpCall;
  headers: Record<string, string>;
  body: { token: string; token_type_hint?: string; client_id?: string; client_secret?: string };
}

/** The headers and form body of a caller's request about one token (RFC 7662 §2.1, RFC 7009 §2.1). */
export function callerForm(caller: {
  clientId: string;
  clientSecret: string | undefined;
  clientAuth: TokenEndpointClientAuth;
  token: string;
  tokenTypeHint: string | undefined;
}): Pick<PreparedRequest, 'headers' | 'body'> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Accept: 'application/json',
  };
  const body: PreparedRequest['body'] = { token: caller.token };
  if (caller.tokenTypeHint !== undefined) body.token_type_hint = caller.tokenTypeHint;
  switch (caller.clientAuth) {
    case 'client_secret_basic':
      headers.Authorization = basicCredentials(caller.clientId, caller.clientSecret ?? '');
      break;
    case 'client_secret_post':
      Object.assign(body, { client_id: caller.clientId, client_secret: caller.clientSecret });
      break;
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      // RFC 8705 §2: the certificate on the connection authenticates; the form names the client.
      body.client_id = caller.clientId;
      break;
  }
  return { headers, body };
}

/** Sends a prepared introspection request and validates the answer (RFC 7662 §2.2). */
export async function sendIntrospection({
  call,
  headers,
  body,
}: PreparedRequest): Promise<IntrospectionResult> {
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
  /** `undefined` with the TLS methods. */
  clientSecret: string | undefined;
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

/** Sends a prepared revocation request (RFC 7009 §2.1); resolves when the server answered 2xx. */
export async function sendRevocation({ call, headers, body }: PreparedRequest): Promise<void> {
  const answer = await exchange(call, (middleware) =>
    call.client.POST('/token/revocation', { body, headers, parseAs: 'text', middleware }),
  );
  if (!answer.response.ok) throw toOAuthError(answer, call);
}
