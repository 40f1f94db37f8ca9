import type { DpopSigner } from '../dpop/proof.js';
import type { Clock } from '../shared/options.js';
import type { EndpointResolver } from '../transport/discovery.js';
import { exchange, toOAuthError, type IdpAnswer, type IdpCall } from '../transport/idp-client.js';
import type { Resilience } from '../transport/resilience.js';
import { parameterValues, type TokenTarget } from './cache-key.js';
import type { ClientAuthenticator } from './client-authentication.js';
import type { DpopNonces } from './dpop-nonces.js';
import { fallbackUntil, refreshAt } from './refresh-policy.js';
import type { CacheEntry, TokenCache } from './token-cache.js';
import { buildTokenRequest, type TokenRequest, type TokenRequestShape } from './token-request.js';
import { processTokenResponse } from './token-response.js';
import type { AccessToken } from './types.js';

/** Sends a built token request through the transport; the answer is read, not yet processed. */
export function sendTokenRequest(call: IdpCall, request: TokenRequest): Promise<IdpAnswer> {
  return exchange(call, (middleware) =>
    call.client.POST('/token', {
      body: request.body,
      headers: request.headers,
      parseAs: 'text',
      middleware,
    }),
  );
}

/** What {@link createTokenFetcher} needs from the client that owns it. */
export interface TokenFetcherContext {
  call: Pick<IdpCall, 'client' | 'timeoutMs'>;
  endpoints: EndpointResolver;
  resilience: Resilience;
  authenticator: ClientAuthenticator;
  shape: TokenRequestShape;
  signer: DpopSigner | undefined;
  nonces: DpopNonces;
  /** The client's cache: the token in it is what callers fall back on while the IdP fails. */
  cache: Pick<TokenCache<AccessToken>, 'peek'>;
  /** The client secret, when there is one: scrubbed from whatever the server echoes. */
  clientSecret: string | undefined;
  now: Clock;
  /** `refreshSkewSeconds`, in ms. */
  skewMs: number;
}

/**
 * Makes the function that asks the token endpoint for a new token for a target: build the
 * request, send it under the retry policy and the circuit breaker, process the answer. A 2xx
 * body that breaks the spec, or a token this client must not use, fails inside the attempt,
 * so it counts as a failure for retries and the circuit breaker, like a 5xx. A
 * `use_dpop_nonce` answer that brings a nonce is tried once more with it (RFC 9449 §8).
 */
export function createTokenFetcher(
  context: TokenFetcherContext,
): (target: TokenTarget) => Promise<CacheEntry<AccessToken>> {
  const { endpoints, resilience, signer, nonces, now } = context;

  return async (target) => {
    const url = await endpoints.resolve('token_endpoint');
    // The DPoP key is made (its algorithm chosen) before the first attempt: a key the server
    // cannot accept is a configuration error, not a failure to retry.
    if (signer) await signer.thumbprint();
    const call: IdpCall = {
      ...context.call,
      url,
      endpoint: 'token endpoint',
      // Token parameters may be credentials (authentik's app password): scrubbed like the secret.
      secrets: [context.clientSecret, ...parameterValues(target.parameters)],
    };
    // The circuit breaker lets a probe through early enough for the token callers fall back on.
    const run = { fallbackUntilMs: fallbackUntil(context.cache.peek(target.key), now().getTime()) };
    const attempt = async () => {
      const sentAtMs = now().getTime();
      const answer = await sendTokenRequest(call, await buildTokenRequest(url, target, context));
      nonces.remember(url, answer.response);
      if (!answer.response.ok) return { ...answer, token: undefined, sentAtMs };
      const token = processTokenResponse(answer, call, { dpop: signer !== undefined, sentAtMs });
      return { ...answer, token, sentAtMs };
    };
    let result = await resilience.run(url, call.endpoint, attempt, run);
    if (
      !result.response.ok &&
      signer &&
      toOAuthError(result, call).code === 'use_dpop_nonce' &&
      result.response.headers.has('dpop-nonce')
    ) {
      // RFC 9449 §8: the server wants a nonce; the new one came with this answer. One retry.
      result = await resilience.run(url, call.endpoint, attempt, run);
    }
    const { token, sentAtMs } = result;
    if (token === undefined) throw toOAuthError(result, call);
    return {
      value: Object.freeze(token),
      refreshAtMs: refreshAt(sentAtMs, token.expires_at, context.skewMs),
    };
  };
}
