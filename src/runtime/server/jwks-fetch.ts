import type { components } from '../../generated/openapi.js';
import * as schemas from '../../generated/schemas.js';
import type { EndpointResolver } from '../transport/discovery.js';
import { endpointLabel } from '../transport/discovery.js';
import { exchange, type IdpCall, type IdpClient } from '../transport/idp-client.js';
import { parseBody, toOAuthError } from '../transport/idp-answer.js';

/** A JSON Web Key Set as the authorization server published it (RFC 7517 §5). */
export type JsonWebKeySet = components['schemas']['JsonWebKeySet'];

export interface JwksFetchOptions {
  client: IdpClient;
  resolver: EndpointResolver;
  timeoutMs: number;
}

/**
 * Makes the function that reads the issuer's key set: resolve `jwks_uri` (discovery, cached by
 * the resolver), `GET` it through the transport, validate it against the generated schema.
 * Failures are the transport's: `NetworkError`, `OAuthError` for a non-2xx answer,
 * `ProtocolError` for a body that is not a key set, for a redirect (never followed: another
 * origin must not choose the keys, RFC 8414 §6.2) or for a body over `maxResponseBytes`.
 */
export function createJwksFetcher(options: JwksFetchOptions): () => Promise<JsonWebKeySet> {
  const { client, resolver, timeoutMs } = options;
  return async () => {
    const url = await resolver.resolve('jwks_uri');
    const call: IdpCall = { client, url, endpoint: endpointLabel('jwks_uri'), timeoutMs };
    const answer = await exchange(call, (middleware) =>
      client.GET('/jwks', { parseAs: 'text', middleware }),
    );
    if (!answer.response.ok) throw toOAuthError(answer, call);
    return parseBody(answer, schemas.JsonWebKeySet, call);
  };
}
