import type { AcceptedDpopAlgorithms } from '../dpop/algorithm.js';
import { createDpopSigner, DPOP_PROOF_OPTION_KEYS, type DpopProofOptions } from '../dpop/proof.js';
import { rejectUnknownOptions } from '../shared/options.js';
import { createEndpointResolver, type EndpointResolver } from '../transport/discovery.js';
import { createIdpClient } from '../transport/idp-client.js';
import { Resilience } from '../transport/resilience.js';
import { createAuthorisedFetch } from './authorised-fetch.js';
import { createClientAuthenticator } from './client-authentication.js';
import { createDpopNonces } from './dpop-nonces.js';
import { createGrantSender, createTokenFetcher } from './fetch-token.js';
import type { AuthClientOptions } from './client-options.js';
import { resolveClientOptions, type ResolvedClientOptions } from './resolve-options.js';
import { createSharedTokenCache } from './shared-token-cache.js';
import { TokenCache } from './token-cache.js';
import { createTokenExchanger, sendTokenExchange } from './token-exchange.js';
import { createTokenSource } from './token-source.js';
import type { AccessToken, AuthClient } from './types.js';

/**
 * What the server accepts in DPoP proofs: the discovery document's list when the token
 * endpoint comes from it, else (or when it lists none) `dpopAlgorithms`.
 */
async function acceptedDpopAlgorithms(
  config: ResolvedClientOptions,
  endpoints: EndpointResolver,
): Promise<AcceptedDpopAlgorithms | undefined> {
  if (config.tokenEndpoint === undefined) {
    const listed = (await endpoints.metadata()).dpop_signing_alg_values_supported;
    if (listed !== undefined && listed.length > 0) {
      return { algorithms: listed, source: 'dpop_signing_alg_values_supported' };
    }
  }
  return config.dpopAlgorithms === undefined
    ? undefined
    : { algorithms: config.dpopAlgorithms, source: 'dpopAlgorithms' };
}

/**
 * Creates a client-credentials token client (RFC 6749 §4.4): tokens are cached in memory per
 * scope set and resource set, refreshed `refreshSkewSeconds` before expiry, fetched once for
 * concurrent callers, and optionally bound to a DPoP key (RFC 9449).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 * @see https://www.rfc-editor.org/rfc/rfc8707
 * @see https://www.rfc-editor.org/rfc/rfc9449
 * @example
 * ```ts
 * import { createAuthClient } from 's2s-auth/client';
 *
 * const auth = createAuthClient({
 *   issuer: 'https://idp.example.com',
 *   clientId: 'billing-service',
 *   clientSecret: process.env.BILLING_CLIENT_SECRET,
 *   scope: 'orders:read',
 *   resource: 'https://orders.example.com',
 *   dpop: true,
 * });
 *
 * const response = await auth.fetch('https://orders.example.com/orders/42');
 * ```
 */
export function createAuthClient(options: AuthClientOptions): AuthClient {
  const config = resolveClientOptions(options);
  const { clientId, issuer, now, timeoutMs, emit, shape } = config;
  const idp = createIdpClient(config.fetch, { maxResponseBytes: config.maxResponseBytes });
  const endpoints = createEndpointResolver({
    client: idp,
    issuer,
    overrides: { token_endpoint: config.tokenEndpoint },
    timeoutMs,
    allowInsecureHttp: config.allowInsecureHttp,
    mtls: config.mtls,
  });
  const authenticator = createClientAuthenticator({
    method: config.clientAuth,
    clientId,
    clientSecret: config.clientSecret,
    privateKey: config.privateKey,
    issuer,
    assertionAudience: config.clientAssertionAudience,
    basicEncoding: config.clientSecretBasicEncoding,
    clientAssertion: config.clientAssertion,
    clientAssertionType: config.clientAssertionType,
    now,
  });
  const signer =
    config.dpop === undefined
      ? undefined
      : createDpopSigner(config.dpop, now, {
          acceptedAlgorithms: () => acceptedDpopAlgorithms(config, endpoints),
        });
  const nonces = createDpopNonces();
  const cache = new TokenCache<AccessToken>();
  const send = createGrantSender({
    call: { client: idp, timeoutMs },
    endpoints,
    resilience: new Resilience(config.retry, config.circuitBreaker, now),
    authenticator,
    signer,
    nonces,
    clientSecret: config.clientSecret,
    now,
  });
  const skewMs = config.refreshSkewSeconds * 1000;
  const tokens = createTokenSource({
    cache,
    shared:
      config.shared &&
      createSharedTokenCache(config.shared, {
        issuer,
        tokenEndpoint: config.tokenEndpoint,
        clientId,
        signer,
        now,
        timeoutMs,
        refreshAheadMs: config.refreshAheadMs,
        emit,
      }),
    fetchToken: createTokenFetcher({ send, shape, cache, now, skewMs }),
    defaults: config.defaults,
    shape,
    now,
    emit,
    refreshAheadMs: config.refreshAheadMs,
  });
  const authorised = createAuthorisedFetch({
    getToken: (tokenOptions) => tokens.getToken(tokenOptions),
    signer,
    nonces,
    fetch: config.fetch,
  });

  async function buildDpopProof(proofOptions: DpopProofOptions): Promise<string> {
    rejectUnknownOptions(proofOptions, DPOP_PROOF_OPTION_KEYS, 'buildDpopProof');
    if (!signer) throw new TypeError('buildDpopProof: DPoP is off for this client (set `dpop`)');
    return signer.proof(proofOptions);
  }

  const exchanger = createTokenExchanger({
    send: (request) => sendTokenExchange(send, request),
    now,
    refreshSkewSeconds: config.refreshSkewSeconds,
    emit,
  });

  function clearCache(): void {
    cache.clear();
    exchanger.clear();
    authorised.clear();
  }

  return {
    getToken: (tokenOptions) => tokens.getToken(tokenOptions),
    getAccessToken: async (tokenOptions) => (await tokens.getToken(tokenOptions)).access_token,
    exchangeToken: (exchangeOptions) => exchanger.exchange(exchangeOptions),
    clearCache,
    buildDpopProof,
    fetch: (input, init) => authorised.fetch(input, init),
    close() {
      tokens.close();
      clearCache();
      // Pooled TLS connections go; the next request opens new ones.
      config.mtlsFetch?.close().catch(() => undefined);
    },
  };
}
