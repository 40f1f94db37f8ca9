import type { DpopKeyPair } from '../dpop/proof.js';
import type { ProfileName } from '../profiles/types.js';
import type { KeyInput } from '../shared/keys.js';
import { optionKeys, type Clock, type FetchLike } from '../shared/options.js';
import type { TokenStore } from '../shared/store.js';
import type { CircuitBreakerOptions, RetryOptions } from '../transport/resilience.js';
import type { ListInput, TokenParameters } from './cache-key.js';
import type { ClientAssertionSource } from './client-assertion.js';
import type {
  ClientAssertionAudience,
  ClientAuthMethod,
  ClientSecretBasicEncoding,
} from './client-authentication.js';
import type { AuthClientEvent } from './auth-client-events.js';
import type { TlsClientOptions } from '../transport/tls-options.js';
import type { ResourceAs } from './token-request.js';

/** Options of {@link createAuthClient}. */
export interface AuthClientOptions {
  /**
   * The identity provider's profile: what its token endpoint needs, as defaults for
   * `clientAuth`, `resourceAs`, `audienceParameter`, `dpopAlgorithms`,
   * `clientAssertionAudience` (with `private_key_jwt`) and `clientSecretBasicEncoding` (with
   * `client_secret_basic`). Each of those options given explicitly wins over the profile.
   * Default: none, the RFCs' defaults.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
   * @example
   * ```ts
   * createAuthClient({ profile: 'entra', issuer, clientId, clientSecret, resource: 'api://orders' });
   * ```
   */
  profile?: ProfileName | undefined;
  /** The authorization server's issuer identifier. Required unless `tokenEndpoint` is given. */
  issuer?: string | undefined;
  /** The OAuth client id. */
  clientId: string;
  /** The client secret, for `client_secret_basic` and `client_secret_post`. */
  clientSecret?: string | undefined;
  /**
   * How the client authenticates. Default: the profile's, else `'client_secret_basic'`.
   * `'tls_client_auth'` and `'self_signed_tls_client_auth'` (RFC 8705 §2) authenticate with the
   * certificate of `tls` (or of your `fetch`), and send only `client_id`.
   */
  clientAuth?: ClientAuthMethod | undefined;
  /** The private key (CryptoKey or private JWK) for `private_key_jwt` (RFC 7523). */
  privateKey?: KeyInput | undefined;
  /**
   * The `aud` of `private_key_jwt` assertions: `'issuer'` (the default unless the profile says
   * otherwise, as RFC 7523 §3 recommends; the token endpoint when only `tokenEndpoint` is
   * configured), `'token_endpoint'`
   * (the token endpoint's URL, which Okta's org authorization server and glewlwyd require), or an
   * absolute URI to send as it is. For `private_key_jwt` only.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
   * @example
   * ```ts
   * createAuthClient({ issuer, clientId, clientAuth: 'private_key_jwt', privateKey, clientAssertionAudience: 'token_endpoint' });
   * ```
   */
  clientAssertionAudience?: ClientAssertionAudience | undefined;
  /**
   * How `client_secret_basic` puts the id and secret in the `Authorization: Basic` header:
   * `'form'` (the default unless the profile says otherwise) form-encodes each first, as
   * RFC 6749 §2.3.1 requires; `'none'` sends
   * them as they are (UTF-8), for servers that do not decode them, such as glewlwyd and authentik.
   * Only an id or secret with characters such as `+ / = %` or a space tells the two apart. For
   * `client_secret_basic` only.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
   * @see https://www.rfc-editor.org/rfc/rfc7617#section-2
   */
  clientSecretBasicEncoding?: ClientSecretBasicEncoding | undefined;
  /**
   * The client assertion of `clientAuth: 'client_assertion'`, signed by someone other than
   * this client: a workload identity token such as a Kubernetes projected service-account
   * token, Entra's `AZURE_FEDERATED_TOKEN_FILE` or a CI system's OIDC token. Either the
   * assertion itself, or a function returning one (or a promise of one), called for every
   * token request and never cached, so a rotated file or a new CI token is picked up:
   * `assertionFromFile(path)` and `assertionFromUrl(url)` make such functions. Each answer must
   * have the shape of a compact JWS (a `ClientAssertionError` otherwise, never retried); the
   * client reads its `exp`, unverified, and never serves a token bought with it past it.
   * Required for `client_assertion`, refused with the other methods. Default: none.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7521#section-4.2
   * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
   * @example
   * ```ts
   * createAuthClient({
   *   issuer,
   *   clientId: 'system:serviceaccount:orders:worker',
   *   clientAuth: 'client_assertion',
   *   clientAssertion: assertionFromFile('/var/run/secrets/tokens/idp-token'),
   * });
   * ```
   */
  clientAssertion?: ClientAssertionSource | undefined;
  /**
   * The `client_assertion_type` sent with `clientAssertion`: an absolute URI. Default
   * `'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'` (RFC 7523 §2.2). For
   * `client_assertion` only.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7521#section-4.2
   * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
   */
  clientAssertionType?: string | undefined;
  /** Default scopes: a space-separated string or a list. */
  scope?: ListInput | undefined;
  /** Default RFC 8707 resource indicator(s): the audience the token is for. */
  resource?: ListInput | undefined;
  /**
   * How resource indicators go into the token request: `'parameter'` (RFC 8707 `resource`) or
   * `'scope-default'`: the one resource as the scope `<resource>/.default` (no second slash when
   * it ends with `/`), which Microsoft Entra ID takes instead (its v2.0 endpoint refuses
   * `resource`, AADSTS901002). Under `'scope-default'` a token names at most one resource and
   * no scopes beside it (a `TypeError` otherwise); tokens are still cached per resource.
   * Default: the profile's, else `'parameter'`. Giving it drops the profile's
   * `audienceParameter`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
   * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
   */
  resourceAs?: ResourceAs | undefined;
  /**
   * The token-request parameter the resource indicator is sent as, instead of `resource`: Auth0
   * takes the API identifier as `audience`. One resource per token then (a `TypeError`
   * otherwise), and `tokenParameters` may not set the same parameter for a token that has a
   * resource. Default: the profile's (the Auth0 profile: `'audience'`), else none. Cannot be
   * given with `resourceAs`.
   *
   * @see https://auth0.com/docs/get-started/authentication-and-authorization-flow/client-credentials-flow/call-your-api-using-the-client-credentials-flow
   */
  audienceParameter?: string | undefined;
  /**
   * Extra parameters of every token request (RFC 6749 §8.2), for IdPs that need more than the
   * RFC's: authentik's `username` and `password` (an app password), a vendor's tenant hint. A
   * list is sent as one parameter per value. Per call, `getToken({ tokenParameters })` lays its
   * own over these, name by name. The parameters the client writes itself (`grant_type`,
   * `client_id`, `client_secret`, `client_assertion`, `client_assertion_type`, `scope`,
   * `resource`) are refused with a `TypeError`. They are part of the cache key (names sorted,
   * each one's values sorted and de-duplicated, and sent so): tokens asked for with other
   * values are cached apart. Values may be secrets: they never appear in an error, event or
   * log, and are scrubbed from whatever the IdP echoes. Default: none.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-8.2
   * @example
   * ```ts
   * createAuthClient({ issuer, clientId, clientSecret, tokenParameters: { tenant: 'acme' } });
   * ```
   */
  tokenParameters?: TokenParameters | undefined;
  /**
   * DPoP (RFC 9449): `true` makes a key for this instance on first use; a key pair supplies
   * one. The generated key's algorithm comes from what the server accepts (its discovery
   * document's `dpop_signing_alg_values_supported`, else `dpopAlgorithms`): EdDSA (Ed25519)
   * when it is listed or nothing is, else the first of ES256, ES384, ES512, PS256 and RS256 that
   * is listed. A supplied key whose algorithm is not listed is a `TypeError` on first use. The
   * algorithms are read before the first proof, so `buildDpopProof` discovers first too.
   * Default `false`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9449#section-5.1
   */
  dpop?: boolean | DpopKeyPair | undefined;
  /**
   * The DPoP algorithms the server accepts, for when its discovery document lists none or is
   * not read (`tokenEndpoint` given): the generated key's algorithm is chosen from them, and a
   * supplied key must have one. With `dpop` only. Default: the profile's (Okta, Duende,
   * authentik, Auth0: `['ES256']`), else none: EdDSA.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9449#section-5.1
   */
  dpopAlgorithms?: readonly string[] | undefined;
  /** The token endpoint; skips discovery. */
  tokenEndpoint?: string | undefined;
  /** Refresh a cached token this many seconds before it expires. Default 30. */
  refreshSkewSeconds?: number | undefined;
  /** Timeout of each request to the authorization server, in ms. Default 10 000. */
  timeoutMs?: number | undefined;
  /**
   * The most bytes of an answer of the authorization server (discovery document, token
   * answer, error) that are read; a longer one is cancelled and the call fails with a
   * `ProtocolError` whose code is `too_large`. Default 1 MiB (1 048 576).
   */
  maxResponseBytes?: number | undefined;
  /** The fetch to use. Default `globalThis.fetch`. */
  fetch?: FetchLike | undefined;
  /**
   * The client certificate and key (PEM) for mutual TLS, with `clientAuth: 'tls_client_auth'`
   * or `'self_signed_tls_client_auth'`: every request of the client (discovery, token requests
   * and `auth.fetch`) presents it, so a resource server can check a certificate-bound token
   * against it. Needs undici (an optional peer dependency) on Node. Required with those
   * methods unless `fetch` is given, a fetch that presents the certificate itself (Cloudflare
   * Workers' mTLS binding, Bun's `tls` option, Deno's `createHttpClient`); not allowed together
   * with `fetch`, nor with another `clientAuth`. Default: none.
   *
   * @see https://www.rfc-editor.org/rfc/rfc8705#section-2
   * @example
   * ```ts
   * createAuthClient({ issuer, clientId, clientAuth: 'tls_client_auth', tls: { cert, key } });
   * ```
   */
  tls?: TlsClientOptions | undefined;
  /** The clock every expiry decision is made on. Default `() => new Date()`. */
  now?: Clock | undefined;
  /**
   * Retries of token requests on network errors, 429 and 5xx: exponential backoff with full
   * jitter, `Retry-After` honoured, within a retry budget. `false` turns them off.
   * Default `{ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5000 }`.
   */
  retry?: RetryOptions | false | undefined;
  /**
   * The circuit breaker of the token endpoint: after `failureThreshold` failures in a row,
   * one probe at a time instead of one request per caller. It works with the cache as one
   * policy: while a cached token is valid callers get it; the probe goes out after
   * `resetTimeoutMs`, but never later than halfway to the cached token's expiry, so a new
   * token can arrive before the old one runs out; a caller with no valid token left may probe
   * once a second; the first answer closes the circuit. `false` turns it off.
   * Default `{ failureThreshold: 5, resetTimeoutMs: 30000 }`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
   */
  circuitBreaker?: CircuitBreakerOptions | false | undefined;
  /**
   * Refresh a token that was used recently in the background, `refreshAheadSeconds` before it
   * would be refreshed anyway, so no caller waits for the IdP. Opt-in; timers never keep the
   * process alive and stop on {@link AuthClient.close}. Default `false`.
   */
  refreshAhead?: boolean | { refreshAheadSeconds?: number | undefined } | undefined;
  /**
   * A token store the instances of a service share, such as `createRedisStore` from
   * `s2s-auth/redis`: a second cache level behind this instance's own. On a miss one instance
   * of the fleet asks the IdP, under a lock with a time to live, and the others take the token
   * it stores, so the fleet makes one token request per scope set, resource set and DPoP key
   * per token lifetime. A DPoP-bound token is shared only with holders of the same DPoP key.
   * The store failing (down, slow, garbage) costs a direct token request, never the caller's
   * token; `onEvent` reports it as `store_error`. Tokens are credentials: a store outside this
   * process should encrypt them (`createRedisStore(redis, { encryptionKey })`). Default: none.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9449#section-6.1
   * @example
   * ```ts
   * const cache = createRedisStore(new Redis(process.env.REDIS_URL), { encryptionKey });
   * const auth = createAuthClient({ issuer, clientId, clientSecret, cache });
   * ```
   */
  cache?: TokenStore | undefined;
  /** Each call to `cache` that takes longer than this counts as failed, in ms. Default 250. */
  cacheTimeoutMs?: number | undefined;
  /**
   * How long an instance's claim to ask the IdP for everyone lasts, in whole seconds: if it
   * dies mid-request, the others go ahead after this. Default `ceil(timeoutMs / 1000) + 5`.
   */
  cacheLockSeconds?: number | undefined;
  /** Observability: called for cache hits and misses, fetched tokens and failed refreshes. */
  onEvent?: ((event: AuthClientEvent) => void) | undefined;
  /**
   * Accept plain `http:` for `issuer` and `tokenEndpoint` (and the endpoints discovery finds)
   * on hosts that are not loopback. Dangerous: the client secret, its assertions and the tokens
   * travel in the clear, and anyone on the path can answer in the server's name. Loopback
   * (`localhost`, `127.0.0.0/8`, `[::1]`) is allowed without it, for tests and local IdPs.
   * Default `false`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.1
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.2
   * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
   */
  allowInsecureHttp?: boolean | undefined;
}

/** Every option of {@link AuthClientOptions}; the compiler keeps the list complete. */
export const AUTH_CLIENT_OPTION_KEYS = optionKeys<AuthClientOptions>()([
  'profile',
  'issuer',
  'clientId',
  'clientSecret',
  'clientAuth',
  'privateKey',
  'clientAssertionAudience',
  'clientSecretBasicEncoding',
  'clientAssertion',
  'clientAssertionType',
  'scope',
  'resource',
  'resourceAs',
  'audienceParameter',
  'tokenParameters',
  'dpop',
  'dpopAlgorithms',
  'tokenEndpoint',
  'refreshSkewSeconds',
  'timeoutMs',
  'fetch',
  'tls',
  'now',
  'retry',
  'circuitBreaker',
  'refreshAhead',
  'cache',
  'cacheTimeoutMs',
  'cacheLockSeconds',
  'onEvent',
  'allowInsecureHttp',
  'maxResponseBytes',
]);
