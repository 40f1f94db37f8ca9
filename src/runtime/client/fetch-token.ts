import type { DpopSigner } from '../dpop/proof.js';
import type { Clock } from '../shared/options.js';
import type { EndpointResolver } from '../transport/discovery.js';
import { exchange, type IdpAnswer, type IdpCall } from '../transport/idp-client.js';
import { toOAuthError } from '../transport/idp-answer.js';
import type { Resilience } from '../transport/resilience.js';
import { parameterValues, type TokenTarget } from './cache-key.js';
import { earlierExpiry } from './client-assertion.js';
import type { ClientAuthenticator } from './client-authentication.js';
import type { DpopNonces } from './dpop-nonces.js';
import { fallbackUntil, refreshAt } from './refresh-policy.js';
import type { CacheEntry, TokenCache } from './token-cache.js';
import {
  buildTokenRequest,
  clientCredentialsForm,
  type GrantForm,
  type TokenRequest,
  type TokenRequestShape,
} from './token-request.js';
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

/** What {@link createGrantSender} needs from the client that owns it. */
export interface GrantSenderContext {
  call: Pick<IdpCall, 'client' | 'timeoutMs'>;
  endpoints: EndpointResolver;
  resilience: Resilience;
  authenticator: ClientAuthenticator;
  signer: DpopSigner | undefined;
  nonces: DpopNonces;
  /** The client secret, when there is one: scrubbed from whatever the server echoes. */
  clientSecret: string | undefined;
  now: Clock;
}

/** What a 2xx answer is read with, besides the answer and the call. */
export interface GrantAnswerContext {
  /** Whether the request carried a DPoP proof. */
  dpop: boolean;
  /** When the request left (epoch ms, injected clock). */
  sentAtMs: number;
  /**
   * When the client credential the request carried expires (epoch seconds), for an external
   * client assertion with a readable `exp`: the token must not be served past it.
   */
  notAfter: number | undefined;
}

/** One grant to send to the token endpoint: its form and how its answer is read. */
export interface Grant<T> {
  /** The grant's form members, `grant_type` included; the client's credentials are added. */
  form: GrantForm;
  /** Values of the form to scrub from anything the server echoes, besides the credentials. */
  secrets: readonly string[];
  /** Until when (epoch ms) the caller holds a token to fall back on (see `Resilience.run`). */
  fallbackUntilMs?: number | undefined;
  /** Checks a 2xx answer and maps it to the token; throws a `ProtocolError` otherwise. */
  read(answer: IdpAnswer, call: IdpCall, context: GrantAnswerContext): T;
}

/** Sends a {@link Grant}: the token it read, and when the request that got it left. */
export type GrantSender = <T>(grant: Grant<T>) => Promise<{ token: T; sentAtMs: number }>;

/**
 * Makes the one send path of every grant to the token endpoint: resolve the endpoint, build
 * the request (client authentication, a fresh client assertion and DPoP proof per attempt),
 * send it under the retry policy and the circuit breaker, read the answer. A 2xx body that
 * breaks the spec, or a token this client must not use, fails inside the attempt, so it counts
 * as a failure for retries and the circuit breaker, like a 5xx. A `use_dpop_nonce` answer that
 * brings a nonce is tried once more with it (RFC 9449 §8). Any other non-2xx answer is an
 * `OAuthError` with the server's `error` code (RFC 6749 §5.2, RFC 8693 §2.2.2).
 */
export function createGrantSender(context: GrantSenderContext): GrantSender {
  const { endpoints, resilience, signer, nonces, now } = context;

  return async <T>(grant: Grant<T>) => {
    const url = await endpoints.resolve('token_endpoint');
    // The DPoP key is made (its algorithm chosen) before the first attempt: a key the server
    // cannot accept is a configuration error, not a failure to retry.
    if (signer) await signer.thumbprint();
    const call: IdpCall = {
      ...context.call,
      url,
      endpoint: 'token endpoint',
      secrets: [context.clientSecret, ...grant.secrets],
    };
    const run = { fallbackUntilMs: grant.fallbackUntilMs };
    const attempt = async () => {
      const sentAtMs = now().getTime();
      const request = await buildTokenRequest(url, grant.form, context);
      const answer = await sendTokenRequest(call, request);
      nonces.remember(url, answer.response);
      if (!answer.response.ok) return { ...answer, token: undefined, sentAtMs };
      const token = grant.read(answer, call, {
        dpop: signer !== undefined,
        sentAtMs,
        notAfter: request.notAfter,
      });
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
    return { token, sentAtMs };
  };
}

/** What {@link createTokenFetcher} needs besides the send path. */
export interface TokenFetcherContext {
  send: GrantSender;
  shape: TokenRequestShape;
  /** The client's cache: the token in it is what callers fall back on while the IdP fails. */
  cache: Pick<TokenCache<AccessToken>, 'peek'>;
  now: Clock;
  /** `refreshSkewSeconds`, in ms. */
  skewMs: number;
}

/**
 * Makes the function that asks the token endpoint for a new client_credentials token for a
 * target (RFC 6749 §4.4). A token bought with an external client assertion expires no later
 * than the assertion (`expires_at` capped at its `exp`): cached here or in the shared store, it
 * is never served once the credential behind it has run out.
 */
export function createTokenFetcher(
  context: TokenFetcherContext,
): (target: TokenTarget) => Promise<CacheEntry<AccessToken>> {
  const { now } = context;
  return async (target) => {
    const { token, sentAtMs } = await context.send({
      form: clientCredentialsForm(target, context.shape),
      // Token parameters may be credentials (authentik's app password): scrubbed like the secret.
      secrets: parameterValues(target.parameters),
      // The circuit breaker lets a probe through early enough for the token callers fall back on.
      fallbackUntilMs: fallbackUntil(context.cache.peek(target.key), now().getTime()),
      read(answer, call, { dpop, sentAtMs: sent, notAfter }) {
        const read = processTokenResponse(answer, call, { dpop, sentAtMs: sent });
        const expiresAt = earlierExpiry(read.expires_at, notAfter);
        return expiresAt === undefined ? read : { ...read, expires_at: expiresAt };
      },
    });
    return {
      value: Object.freeze(token),
      refreshAtMs: refreshAt(sentAtMs, token.expires_at, context.skewMs),
    };
  };
}
