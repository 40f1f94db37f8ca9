import * as schemas from '../../generated/schemas.js';
import {
  createDpopSigner,
  DPOP_PROOF_OPTION_KEYS,
  validateDpopOption,
  type DpopKeyPair,
  type DpopProofOptions,
} from '../dpop/proof.js';
import { NetworkError } from '../errors.js';
import { emitter } from '../shared/events.js';
import { isCryptoKey, type KeyInput } from '../shared/keys.js';
import {
  OptionError,
  optionalBoolean,
  optionalPositiveNumber,
  optionKeys,
  rejectUnknownOptions,
  requireString,
  resolveClock,
  resolveFetch,
  type Clock,
  type FetchLike,
} from '../shared/options.js';
import { requireHttpUrl } from '../shared/url.js';
import { createEndpointResolver } from '../transport/discovery.js';
import {
  createIdpClient,
  DEFAULT_MAX_RESPONSE_BYTES,
  exchange,
  parseBody,
  toOAuthError,
  type IdpCall,
} from '../transport/idp-client.js';
import {
  resolveBreaker,
  resolveRetry,
  Resilience,
  type CircuitBreakerOptions,
  type RetryOptions,
} from '../transport/resilience.js';
import type { TokenStore } from '../shared/store.js';
import { scheduleTimeout, type Timer } from '../shared/timers.js';
import {
  parameterValues,
  resolveTokenParameters,
  slotOf,
  tokenTarget,
  type ListInput,
  type NormalisedParameters,
  type TokenParameters,
  type TokenTarget,
} from './cache-key.js';
import { resolveClientProfile } from './client-profile.js';
import {
  clientAuthMethods,
  createClientAuthenticator,
  type ClientAssertionAudience,
  type ClientAuthMethod,
  type ClientSecretBasicEncoding,
} from './client-auth.js';
import { scrubCredentials } from '../shared/scrub-error.js';
import {
  createSharedTokenCache,
  resolveSharedCache,
  type StoreOperation,
} from './shared-token-cache.js';
import { TokenCache, type CacheEntry } from './token-cache.js';
import {
  checkTokenTarget,
  resolveTokenRequestShape,
  tokenRequestMembers,
  type ResourceAs,
} from './token-request.js';
import { readTokenResponse } from './token-response.js';
import type { AcceptedDpopAlgorithms } from '../dpop/algorithm.js';
import type { ProfileName } from '../profiles/types.js';

export type {
  ClientAssertionAudience,
  ClientAuthMethod,
  ClientSecretBasicEncoding,
} from './client-auth.js';
export type { DpopKeyPair, DpopProofOptions } from '../dpop/proof.js';
export type { ListInput, TokenParameters } from './cache-key.js';
export type { ResourceAs } from './token-request.js';
export type { ProfileName } from '../profiles/types.js';
export type { CircuitBreakerOptions, RetryOptions } from '../transport/resilience.js';
export type { StoreOperation } from './shared-token-cache.js';

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
  /** How the client authenticates. Default: the profile's, else `'client_secret_basic'`. */
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

const REFRESH_AHEAD_OPTION_KEYS = optionKeys<
  Exclude<NonNullable<AuthClientOptions['refreshAhead']>, boolean>
>()(['refreshAheadSeconds']);

/** Which token an event is about: its scope set and resource set (never the token). */
export interface TokenSlot {
  /** Space-separated, sorted scopes; empty for none. */
  scope: string;
  resource: readonly string[];
  /** The names of its `tokenParameters`, sorted, when it has any; never their values. */
  parameters?: readonly string[];
}

/**
 * What the client reports through `onEvent`. No event carries a token or a secret.
 *
 * - `cache_hit` / `cache_miss`: a `getToken` call served from the cache, or not.
 * - `token_fetched`: a new token arrived; `refresh` says why it was asked for.
 * - `token_failed`: a token request failed; `servedStale` says callers got the cached token,
 *   still valid, instead of the error.
 * - `shared_cache_hit`: a token came from the shared `cache` store instead of the IdP.
 * - `store_error`: a call to the shared `cache` store failed, timed out or found a value that
 *   is not a token entry; the client went on without it. `error` holds its name and message.
 */
export type AuthClientEvent =
  | { type: 'cache_hit'; slot: TokenSlot }
  | { type: 'cache_miss'; slot: TokenSlot }
  | {
      type: 'token_fetched';
      slot: TokenSlot;
      tokenType: 'Bearer' | 'DPoP';
      expiresAt: number | undefined;
      durationMs: number;
      refresh: 'none' | 'expiring' | 'forced' | 'ahead';
    }
  | { type: 'token_failed'; slot: TokenSlot; error: unknown; servedStale: boolean }
  | { type: 'shared_cache_hit'; slot: TokenSlot }
  | { type: 'store_error'; slot: TokenSlot; operation: StoreOperation; error: Error };

/** Options of {@link AuthClient.getToken}: each one given overrides the client's default. */
export interface GetTokenOptions {
  /** Scopes for this token instead of the default ones. */
  scope?: ListInput | undefined;
  /** Resource indicator(s) for this token instead of the default ones. */
  resource?: ListInput | undefined;
  /**
   * Token-request parameters for this token, laid over the client's `tokenParameters` name by
   * name (a name given here replaces that default's values; the others stay). Part of the
   * cache key.
   */
  tokenParameters?: TokenParameters | undefined;
  /** Skip the cache: fetch a new token and replace the cached one. */
  forceRefresh?: boolean | undefined;
  /**
   * Stop waiting: the call rejects with a `NetworkError`. A token request other callers share
   * goes on for them.
   */
  signal?: AbortSignal | undefined;
}

/** Every option of {@link GetTokenOptions}; the compiler keeps the list complete. */
const GET_TOKEN_OPTION_KEYS = optionKeys<GetTokenOptions>()([
  'scope',
  'resource',
  'tokenParameters',
  'forceRefresh',
  'signal',
]);

/**
 * Options of {@link AuthClient.fetch}: the `fetch` options, plus the scopes and resources of the
 * token to send, as {@link AuthClient.getToken} takes them. `scope`, `resource` and
 * `tokenParameters` are taken out before the request is made.
 *
 * @example
 * ```ts
 * await auth.fetch('https://ledger.example.com/entries', {
 *   method: 'POST',
 *   body,
 *   scope: 'ledger:write',
 *   resource: 'https://ledger.example.com',
 * });
 * ```
 */
export interface AuthorisedFetchInit extends RequestInit {
  /** Scopes of the token for this call instead of the client's defaults. */
  scope?: ListInput | undefined;
  /** RFC 8707 resource indicator(s) of the token for this call instead of the client's defaults. */
  resource?: ListInput | undefined;
  /** Token-request parameters of the token for this call, laid over the client's defaults. */
  tokenParameters?: TokenParameters | undefined;
}

/** An access token as the client hands it out (RFC 6749 §5.1). */
export interface AccessToken {
  /** The token to send: `1*VSCHAR` (RFC 6749 Appendix A.12). A credential: never log it whole. */
  access_token: string;
  /**
   * `'DPoP'` when the token is bound to the client's DPoP key (the only type a DPoP client
   * accepts, RFC 9449 §5), `'Bearer'` otherwise; the server's spelling is normalised.
   */
  token_type: 'Bearer' | 'DPoP';
  /**
   * Lifetime in seconds, as the server sent it (positive, at most ten years); a string of
   * digits, as Entra's v1.0 endpoint sends it, is its number.
   */
  expires_in?: number;
  /** Expiry in epoch seconds on the client's clock. */
  expires_at?: number;
  /** The granted scopes, when the server said. */
  scope?: string;
}

/** A client-credentials token client. Create one with {@link createAuthClient}. */
export interface AuthClient {
  /** A token for the given (or default) scopes and resources: cached, refreshed, single-flight. */
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /** The `access_token` string of {@link AuthClient.getToken}. */
  getAccessToken(options?: GetTokenOptions): Promise<string>;
  /** Drops every cached token; the next call fetches. */
  clearCache(): void;
  /** An RFC 9449 proof signed with this client's DPoP key. Throws `TypeError` when DPoP is off. */
  buildDpopProof(options: DpopProofOptions): Promise<string>;
  /**
   * `fetch` with this client's token (for its default scopes and resources, or those in
   * `init`): sets `Authorization`, adds a DPoP proof when DPoP is on, retries once on a
   * `use_dpop_nonce` challenge and once, with a new token, on a 401 `invalid_token`. A token
   * causes at most one forced refresh, however many calls it fails; a new token the same
   * server refuses as well is not refreshed again. An error raised on the way (by `Headers`
   * or the underlying `fetch`) never carries the token or the DPoP proof.
   */
  fetch(input: RequestInfo | URL, init?: AuthorisedFetchInit): Promise<Response>;
  /** Stops background refreshes and drops the cache. The client stays usable. */
  close(): void;
}

const where = 'createAuthClient';
/** Nonces remembered per origin; servers rotate them, so a few dozen origins are plenty. */
const maxRememberedNonces = 64;
/** Refused tokens remembered (per origin and token) by the authorised fetch. */
const maxRememberedRefusals = 256;

/** The `error` parameter of a `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9449 §7.1). */
function challengeError(header: string | null): string | undefined {
  if (!header) return undefined;
  return /(?:^|[\s,])error\s*=\s*"?([A-Za-z0-9_.-]+)"?/i.exec(header)?.[1];
}

function validateOptions(options: AuthClientOptions) {
  rejectUnknownOptions(options, AUTH_CLIENT_OPTION_KEYS, where);
  const profile = resolveClientProfile(options.profile, where);
  const clientId = requireString(options.clientId, 'clientId', where);
  const allowInsecureHttp = optionalBoolean(
    options.allowInsecureHttp,
    'allowInsecureHttp',
    where,
    false,
  );
  const urls = { allowInsecureHttp };
  const issuer =
    options.issuer === undefined
      ? undefined
      : requireHttpUrl(options.issuer, 'issuer', where, urls);
  const tokenEndpoint =
    options.tokenEndpoint === undefined
      ? undefined
      : requireHttpUrl(options.tokenEndpoint, 'tokenEndpoint', where, urls);
  if (issuer === undefined && tokenEndpoint === undefined) {
    throw new TypeError(`${where}: \`issuer\` is required unless \`tokenEndpoint\` is given`);
  }
  const clientAuth = options.clientAuth ?? profile?.clientAuth ?? 'client_secret_basic';
  if (!clientAuthMethods.includes(clientAuth)) {
    throw new TypeError(`${where}: \`clientAuth\` must be one of ${clientAuthMethods.join(', ')}`);
  }
  if (clientAuth === 'private_key_jwt') {
    const key = options.privateKey;
    if (!isCryptoKey(key) && !(typeof key === 'object' && key !== null && 'kty' in key)) {
      throw new TypeError(
        `${where}: \`privateKey\` (a CryptoKey or private JWK) is required for private_key_jwt`,
      );
    }
  } else {
    requireString(options.clientSecret, 'clientSecret', where);
  }
  const dpop = validateDpopOption(options.dpop);
  const shape = resolveTokenRequestShape(options, profile, where);
  const parameters = resolveTokenParameters(options.tokenParameters, where, 'tokenParameters');
  const defaults = tokenTarget(options.scope, options.resource, where, parameters);
  checkTokenTarget(defaults, shape, where);
  return {
    clientId,
    issuer,
    tokenEndpoint,
    allowInsecureHttp,
    clientAuth,
    // A profile's value applies only to the method it is about; an explicit one is checked
    // against the method by the authenticator.
    clientAssertionAudience:
      options.clientAssertionAudience ??
      (clientAuth === 'private_key_jwt' ? profile?.clientAssertionAudience : undefined),
    clientSecretBasicEncoding:
      options.clientSecretBasicEncoding ??
      (clientAuth === 'client_secret_basic' ? profile?.clientSecretBasicEncoding : undefined),
    shape,
    dpop,
    dpopAlgorithms: resolveDpopAlgorithms(options.dpopAlgorithms, dpop, profile?.dpopAlgorithms),
    refreshSkewSeconds: optionalPositiveNumber(
      options.refreshSkewSeconds,
      'refreshSkewSeconds',
      where,
      30,
      {
        allowZero: true,
      },
    ),
    timeoutMs: optionalPositiveNumber(options.timeoutMs, 'timeoutMs', where, 10_000),
    maxResponseBytes: optionalPositiveNumber(
      options.maxResponseBytes,
      'maxResponseBytes',
      where,
      DEFAULT_MAX_RESPONSE_BYTES,
    ),
    fetch: resolveFetch(options.fetch, where),
    now: resolveClock(options.now, where),
    defaults,
    retry: resolveRetry(options.retry, where),
    circuitBreaker: resolveBreaker(options.circuitBreaker, where),
    refreshAheadMs: resolveRefreshAhead(options.refreshAhead),
    emit: emitter(options.onEvent),
    shared: resolveSharedCache(options, where),
  };
}

function resolveDpopAlgorithms(
  value: unknown,
  dpop: unknown,
  fromProfile: readonly string[] | undefined,
): readonly string[] | undefined {
  if (value === undefined) return fromProfile;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((alg) => typeof alg === 'string' && alg !== '')
  ) {
    throw new OptionError(
      `${where}: \`dpopAlgorithms\` must be a non-empty list of JWS algorithm names, such as ['ES256']`,
      'ERR_INVALID_OPTION',
      'dpopAlgorithms',
    );
  }
  if (dpop === undefined) {
    throw new OptionError(
      `${where}: \`dpopAlgorithms\` applies with \`dpop\` only`,
      'ERR_INVALID_OPTION',
      'dpopAlgorithms',
    );
  }
  return Object.freeze([...(value as string[])]);
}

function resolveRefreshAhead(value: AuthClientOptions['refreshAhead']): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return 30_000;
  if (typeof value === 'object' && value !== null) {
    rejectUnknownOptions(value, REFRESH_AHEAD_OPTION_KEYS, where, 'refreshAhead');
    return (
      optionalPositiveNumber(
        value.refreshAheadSeconds,
        'refreshAhead.refreshAheadSeconds',
        where,
        30,
      ) * 1000
    );
  }
  throw new TypeError(`${where}: \`refreshAhead\` must be a boolean or { refreshAheadSeconds }`);
}

/** Settles with `promise`, or rejects with a NetworkError as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  const aborted = () =>
    new NetworkError('getToken was aborted by its signal', signal.reason, 'aborted');
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** After a failed refresh, a still-valid token is served this long before the next attempt. */
const staleRetryMs = 1000;

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
  const config = validateOptions(options);
  const { clientId, issuer, now, timeoutMs, defaults, emit, refreshAheadMs } = config;
  const fetchImpl = config.fetch;
  const secret = options.clientSecret;
  const idp = createIdpClient(fetchImpl, { maxResponseBytes: config.maxResponseBytes });
  const resilience = new Resilience(config.retry, config.circuitBreaker, now);
  const endpoints = createEndpointResolver({
    client: idp,
    issuer,
    overrides: { token_endpoint: config.tokenEndpoint },
    timeoutMs,
    allowInsecureHttp: config.allowInsecureHttp,
  });
  const authenticator = createClientAuthenticator({
    method: config.clientAuth,
    clientId,
    clientSecret: secret,
    privateKey: options.privateKey,
    issuer,
    assertionAudience: config.clientAssertionAudience,
    basicEncoding: config.clientSecretBasicEncoding,
    now,
  });
  const { shape } = config;

  /**
   * What the server accepts in DPoP proofs: the discovery document's list when the token
   * endpoint comes from it, else (or when it lists none) `dpopAlgorithms`.
   */
  async function acceptedDpopAlgorithms(): Promise<AcceptedDpopAlgorithms | undefined> {
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

  const signer =
    config.dpop === undefined
      ? undefined
      : createDpopSigner(config.dpop, now, { acceptedAlgorithms: acceptedDpopAlgorithms });
  const shared =
    config.shared &&
    createSharedTokenCache(config.shared, {
      issuer,
      tokenEndpoint: config.tokenEndpoint,
      clientId,
      signer,
      now,
      timeoutMs,
      refreshAheadMs,
      emit,
    });
  const cache = new TokenCache<AccessToken>();
  const nonces = new Map<string, string>();
  const skewMs = config.refreshSkewSeconds * 1000;
  /** Refresh-ahead bookkeeping per slot: its timer and when a caller last used the token. */
  type AheadState = { timer: Timer | undefined; usedAtMs: number };
  const ahead = new Map<string, AheadState>();

  function rememberNonce(url: string, response: Response): void {
    const nonce = response.headers.get('dpop-nonce');
    if (!nonce) return;
    const { origin } = new URL(url);
    nonces.delete(origin);
    nonces.set(origin, nonce);
    if (nonces.size > maxRememberedNonces) nonces.delete(nonces.keys().next().value as string);
  }

  /** One attempt: a fresh client assertion and DPoP proof each time (both are single-use). */
  async function sendTokenRequest(call: IdpCall, target: TokenTarget) {
    const { url } = call;
    const authentication = await authenticator.authenticate(url);
    const headers: Record<string, string> = {
      ...authentication.headers,
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    };
    if (signer) {
      const nonce = nonces.get(new URL(url).origin);
      headers.DPoP = await signer.proof({
        htm: 'POST',
        htu: url,
        ...(nonce === undefined ? {} : { nonce }),
      });
    }
    const answer = await exchange(call, (middleware) =>
      idp.POST('/token', {
        body: {
          grant_type: 'client_credentials',
          ...tokenRequestMembers(target, shape),
          ...authentication.body,
        },
        headers,
        parseAs: 'text',
        middleware,
      }),
    );
    rememberNonce(url, answer.response);
    return answer;
  }

  /**
   * Until when the slot's cached token can still be handed out (epoch ms): what callers fall
   * back on while the IdP fails. `undefined` when there is none left; `Infinity` for a token
   * whose expiry is unknown.
   */
  function fallbackUntil(target: TokenTarget): number | undefined {
    const previous = cache.peek(target.key);
    if (previous === undefined) return undefined;
    const expiresAt = previous.value.expires_at;
    if (expiresAt === undefined) return Number.POSITIVE_INFINITY;
    return expiresAt * 1000 > now().getTime() ? expiresAt * 1000 : undefined;
  }

  async function requestToken(target: TokenTarget): Promise<CacheEntry<AccessToken>> {
    const url = await endpoints.resolve('token_endpoint');
    // The DPoP key is made (its algorithm chosen) before the first attempt: a key the server
    // cannot accept is a configuration error, not a failure to retry.
    if (signer) await signer.thumbprint();
    const call: IdpCall = {
      client: idp,
      url,
      endpoint: 'token endpoint',
      timeoutMs,
      // Token parameters may be credentials (authentik's app password): scrubbed like the secret.
      secrets: [secret, ...parameterValues(target.parameters)],
    };
    const where = `the authorization server's ${call.endpoint}`;
    // The circuit breaker lets a probe through early enough for the token callers fall back on.
    const run = { fallbackUntilMs: fallbackUntil(target) };
    // A 2xx body that breaks the spec, or a token this client must not use, throws inside the
    // attempt, so it counts as a failure for retries and the circuit breaker, like a 5xx.
    const attempt = async () => {
      const sentAtMs = now().getTime();
      const answer = await sendTokenRequest(call, target);
      if (!answer.response.ok) return { ...answer, token: undefined, sentAtMs };
      const body = parseBody(answer, schemas.TokenResponse, call);
      return {
        ...answer,
        token: readTokenResponse(body, { dpop: signer !== undefined, sentAtMs, where }),
        sentAtMs,
      };
    };
    let result = await resilience.run(url, call.endpoint, attempt, run);
    if (!result.response.ok && signer) {
      // RFC 9449 §8: the server wants a nonce; the new one came with this answer. One retry.
      if (
        toOAuthError(result, call).code === 'use_dpop_nonce' &&
        result.response.headers.has('dpop-nonce')
      ) {
        result = await resilience.run(url, call.endpoint, attempt, run);
      }
    }
    const { token, sentAtMs } = result;
    if (token === undefined) throw toOAuthError(result, call);
    return { value: Object.freeze(token), refreshAtMs: refreshAt(sentAtMs, token.expires_at) };
  }

  /**
   * When to stop serving a token: `refreshSkewSeconds` before expiry. A token that lives no
   * longer than the skew is served for half its life instead of never, so a short-lived
   * token does not turn every call into a token request. Unknown expiry: until evicted.
   */
  function refreshAt(issuedAtMs: number, expiresAt: number | undefined): number {
    if (expiresAt === undefined) return Number.POSITIVE_INFINITY;
    const expiresAtMs = expiresAt * 1000;
    const lifetimeMs = expiresAtMs - issuedAtMs;
    return lifetimeMs > skewMs ? expiresAtMs - skewMs : issuedAtMs + lifetimeMs / 2;
  }

  /**
   * Loads a token for the slot. When the request fails but the cached token has not expired,
   * every waiter gets that token instead of the error (stale-while-error), and the next
   * attempt waits a moment; only an expired token turns into an error.
   */
  function load(
    target: TokenTarget,
    refresh: 'none' | 'expiring' | 'forced' | 'ahead',
  ): Promise<AccessToken> {
    return cache.load(target.key, async () => {
      const startedMs = now().getTime();
      try {
        const entry = shared
          ? await shared.load(target, refresh, () => requestToken(target))
          : await requestToken(target);
        if (!('shared' in entry)) {
          emit?.({
            type: 'token_fetched',
            slot: slotOf(target),
            tokenType: entry.value.token_type,
            expiresAt: entry.value.expires_at,
            durationMs: now().getTime() - startedMs,
            refresh,
          });
        }
        scheduleAhead(target, entry.refreshAtMs);
        return entry;
      } catch (error) {
        const previous = cache.peek(target.key);
        const nowMs = now().getTime();
        const expiresAtMs =
          previous?.value.expires_at === undefined ? undefined : previous.value.expires_at * 1000;
        const usable = previous !== undefined && expiresAtMs !== undefined && nowMs < expiresAtMs;
        emit?.({ type: 'token_failed', slot: slotOf(target), error, servedStale: usable });
        if (!usable) throw error;
        return { value: previous.value, refreshAtMs: Math.min(nowMs + staleRetryMs, expiresAtMs) };
      }
    });
  }

  /**
   * Refresh-ahead: a timer per slot, refreshing only a token some caller used since it arrived.
   * The delay comes from the IdP's `expires_in`: `scheduleTimeout` waits out delays longer than
   * `setTimeout` can hold (about 24.8 days) instead of firing at once.
   */
  function scheduleAhead(target: TokenTarget, refreshAtMs: number): void {
    if (refreshAheadMs === undefined || !Number.isFinite(refreshAtMs)) return;
    ahead.get(target.key)?.timer?.cancel();
    const fetchedAtMs = now().getTime();
    const state: AheadState = { timer: undefined, usedAtMs: -Infinity };
    const delay = Math.max(0, refreshAtMs - refreshAheadMs - fetchedAtMs);
    state.timer = scheduleTimeout(
      () => {
        state.timer = undefined;
        if (state.usedAtMs >= fetchedAtMs) load(target, 'ahead').catch(() => undefined);
        else ahead.delete(target.key);
      },
      delay,
      { unref: true },
    );
    ahead.set(target.key, state);
  }

  function getToken(options: GetTokenOptions = {}): Promise<AccessToken> {
    let target: TokenTarget;
    try {
      rejectUnknownOptions(options, GET_TOKEN_OPTION_KEYS, 'getToken');
      target =
        options.scope === undefined &&
        options.resource === undefined &&
        options.tokenParameters === undefined
          ? defaults
          : callTarget(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const nowMs = now().getTime();
    if (refreshAheadMs !== undefined) {
      const state = ahead.get(target.key);
      if (state) state.usedAtMs = nowMs;
    }
    if (options.forceRefresh !== true) {
      const cached = cache.fresh(target.key, nowMs);
      if (cached) {
        emit?.({ type: 'cache_hit', slot: slotOf(target) });
        return Promise.resolve(cached);
      }
      emit?.({ type: 'cache_miss', slot: slotOf(target) });
    }
    const refresh =
      options.forceRefresh === true ? 'forced' : cache.peek(target.key) ? 'expiring' : 'none';
    return untilAborted(load(target, refresh), options.signal);
  }

  function callTarget(options: GetTokenOptions): TokenTarget {
    const parameters: NormalisedParameters = resolveTokenParameters(
      options.tokenParameters,
      'getToken',
      'tokenParameters',
      defaults.parameters,
    );
    const target = tokenTarget(
      options.scope ?? defaults.scopes,
      options.resource ?? defaults.resources,
      'getToken',
      parameters,
    );
    checkTokenTarget(target, shape, 'getToken');
    return target;
  }

  async function buildDpopProof(proofOptions: DpopProofOptions): Promise<string> {
    rejectUnknownOptions(proofOptions, DPOP_PROOF_OPTION_KEYS, 'buildDpopProof');
    if (!signer) throw new TypeError('buildDpopProof: DPoP is off for this client (set `dpop`)');
    return signer.proof(proofOptions);
  }

  /**
   * Tokens a server answered `401 invalid_token` to, by origin and token: the forced refresh
   * that token caused (joined by every later call that presents it), or `'refused'` for a
   * token that was itself the refresh and got refused too, which no further refresh will fix.
   * Forgotten when that origin accepts the token; bounded.
   */
  const refusals = new Map<string, Promise<AccessToken> | 'refused'>();

  function rememberRefusal(key: string, value: Promise<AccessToken> | 'refused'): void {
    refusals.delete(key);
    refusals.set(key, value);
    if (refusals.size > maxRememberedRefusals)
      refusals.delete(refusals.keys().next().value as string);
  }

  /**
   * The token to try again with after `token` was refused with `401 invalid_token` by
   * `origin`, or `undefined` when another try cannot help. One forced refresh per refused
   * token, shared by every call that presents it.
   */
  async function replacementFor(
    origin: string,
    token: AccessToken,
    options: GetTokenOptions,
  ): Promise<AccessToken | undefined> {
    const key = `${origin}\n${token.access_token}`;
    let pending = refusals.get(key);
    if (pending === 'refused') return undefined;
    if (pending === undefined) {
      const refresh = getToken({ ...options, forceRefresh: true });
      pending = refresh;
      rememberRefusal(key, refresh);
      // A refresh that failed may be tried again by the next call.
      refresh.catch(() => {
        if (refusals.get(key) === refresh) refusals.delete(key);
      });
    }
    const fresh = await pending;
    if (fresh.access_token !== token.access_token) return fresh;
    // The IdP could not be reached and the cached token came back: nothing new to try.
    refusals.delete(key);
    return undefined;
  }

  /** Sends `request` with `token`: no error that comes out of it holds the token or the proof. */
  async function send(request: Request, token: AccessToken, origin: string): Promise<Response> {
    const credentials: string[] = [token.access_token];
    try {
      request.headers.set('Authorization', `${token.token_type} ${token.access_token}`);
      if (signer && token.token_type === 'DPoP') {
        const nonce = nonces.get(origin);
        const proof = await signer.proof({
          htm: request.method,
          htu: request.url,
          accessToken: token.access_token,
          ...(nonce === undefined ? {} : { nonce }),
        });
        credentials.push(proof);
        request.headers.set('DPoP', proof);
      }
      return await fetchImpl(request);
    } catch (error) {
      throw scrubCredentials(error, credentials);
    }
  }

  async function authorisedFetch(
    input: RequestInfo | URL,
    init?: AuthorisedFetchInit,
  ): Promise<Response> {
    const { scope, resource, tokenParameters, ...requestInit } = init ?? {};
    const original = new Request(input, requestInit);
    const { origin } = new URL(original.url);
    const signal = requestInit.signal ?? undefined;
    const tokenOptions: GetTokenOptions = {
      ...(scope === undefined ? {} : { scope }),
      ...(resource === undefined ? {} : { resource }),
      ...(tokenParameters === undefined ? {} : { tokenParameters }),
      ...(signal ? { signal } : {}),
    };
    let token = await getToken(tokenOptions);
    let nonceRetried = false;
    let refreshed = false;
    for (;;) {
      const response = await send(original.clone(), token, origin);
      if (signer) rememberNonce(original.url, response);
      const error =
        response.status === 401
          ? challengeError(response.headers.get('www-authenticate'))
          : undefined;
      if (error !== 'invalid_token') refusals.delete(`${origin}\n${token.access_token}`);
      if (response.status !== 401) return response;
      if (
        error === 'use_dpop_nonce' &&
        signer &&
        !nonceRetried &&
        response.headers.has('dpop-nonce')
      ) {
        nonceRetried = true;
      } else if (error === 'invalid_token' && refreshed) {
        // A token fetched because of the last refusal was refused as well.
        rememberRefusal(`${origin}\n${token.access_token}`, 'refused');
        return response;
      } else if (error === 'invalid_token') {
        refreshed = true;
        const replacement = await replacementFor(origin, token, tokenOptions);
        if (replacement === undefined) return response;
        token = replacement;
      } else {
        return response;
      }
      await response.body?.cancel();
    }
  }

  function close(): void {
    for (const state of ahead.values()) state.timer?.cancel();
    ahead.clear();
    cache.clear();
    refusals.clear();
  }

  return {
    getToken,
    getAccessToken: async (tokenOptions) => (await getToken(tokenOptions)).access_token,
    clearCache: () => {
      cache.clear();
      refusals.clear();
    },
    buildDpopProof,
    fetch: authorisedFetch,
    close,
  };
}
