import { validateDpopOption } from '../dpop/proof.js';
import { emitter } from '../shared/events.js';
import { isCryptoKey } from '../shared/keys.js';
import {
  OptionError,
  optionalBoolean,
  optionalPositiveNumber,
  optionKeys,
  rejectUnknownOptions,
  requireString,
  resolveClock,
  resolveFetch,
} from '../shared/options.js';
import { requireHttpUrl } from '../shared/url.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../transport/idp-client.js';
import { resolveBreaker, resolveRetry } from '../transport/resilience.js';
import { resolveTokenParameters, tokenTarget } from './cache-key.js';
import { clientAuthMethods, isMtlsClientAuth } from './client-authentication.js';
import { resolveMtlsOption } from '../transport/mtls.js';
import { resolveClientProfile } from './client-profile.js';
import { AUTH_CLIENT_OPTION_KEYS, type AuthClientOptions } from './client-options.js';
import { resolveSharedCache } from './shared-token-cache.js';
import { checkTokenTarget, resolveTokenRequestShape } from './token-request.js';

const where = 'createAuthClient';

const REFRESH_AHEAD_OPTION_KEYS = optionKeys<
  Exclude<NonNullable<AuthClientOptions['refreshAhead']>, boolean>
>()(['refreshAheadSeconds']);

/** The options of `createAuthClient`, checked, with the profile and the defaults filled in. */
export type ResolvedClientOptions = ReturnType<typeof resolveClientOptions>;

/**
 * Checks every option of `createAuthClient` (a `TypeError`, mostly an `OptionError`, names the
 * option that is wrong) and settles what the profile and the defaults leave open.
 */
export function resolveClientOptions(options: AuthClientOptions) {
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
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers in plain JavaScript can pass anything
    if (!isCryptoKey(key) && !(typeof key === 'object' && key !== null && 'kty' in key)) {
      throw new TypeError(
        `${where}: \`privateKey\` (a CryptoKey or private JWK) is required for private_key_jwt`,
      );
    }
  } else if (!isMtlsClientAuth(clientAuth) && clientAuth !== 'client_assertion') {
    requireString(options.clientSecret, 'clientSecret', where);
  }
  checkClientAssertionOptions(options, clientAuth);
  checkSecretlessCredentials(options, clientAuth);
  const mtlsFetch = resolveMtls(options, clientAuth);
  const dpop = validateDpopOption(options.dpop);
  const shape = resolveTokenRequestShape(options, profile, where);
  const parameters = resolveTokenParameters(options.tokenParameters, where, 'tokenParameters');
  const defaults = tokenTarget(options.scope, options.resource, where, parameters);
  checkTokenTarget(defaults, shape, where);
  return {
    clientId,
    clientSecret: options.clientSecret,
    privateKey: options.privateKey,
    issuer,
    tokenEndpoint,
    allowInsecureHttp,
    clientAuth,
    // A profile's value applies only to the method it is about; an explicit one is checked
    // against the method by the authenticator.
    clientAssertionAudience:
      options.clientAssertionAudience ??
      (clientAuth === 'private_key_jwt' ? profile?.clientAssertionAudience : undefined),
    clientAssertion: options.clientAssertion,
    clientAssertionType: options.clientAssertionType,
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
    fetch: mtlsFetch ?? resolveFetch(options.fetch, where),
    /** The fetch made for `tls`, closed with the client; `undefined` without `tls`. */
    mtlsFetch,
    /** Mutual TLS client authentication: endpoints come from `mtls_endpoint_aliases`. */
    mtls: isMtlsClientAuth(clientAuth),
    now: resolveClock(options.now, where),
    defaults,
    retry: resolveRetry(options.retry, where),
    circuitBreaker: resolveBreaker(options.circuitBreaker, where),
    refreshAheadMs: resolveRefreshAhead(options.refreshAhead),
    emit: emitter(options.onEvent),
    shared: resolveSharedCache(options, where),
  };
}

/**
 * `clientAssertion` and `clientAssertionType` go with `clientAuth: 'client_assertion'` only,
 * and it needs the first; their values are checked when the authenticator is made.
 */
function checkClientAssertionOptions(options: AuthClientOptions, clientAuth: string): void {
  if (clientAuth === 'client_assertion') {
    if (options.clientAssertion === undefined) {
      throw new OptionError(
        `${where}: \`clientAssertion\` (the assertion, or a function such as assertionFromFile(path) returning one) is required for client_assertion`,
        'ERR_INVALID_OPTION',
        'clientAssertion',
      );
    }
    return;
  }
  for (const option of ['clientAssertion', 'clientAssertionType'] as const) {
    if (options[option] !== undefined) {
      throw new OptionError(
        `${where}: \`${option}\` applies with \`clientAuth: 'client_assertion'\` only, not ${clientAuth}`,
        'ERR_INVALID_OPTION',
        option,
      );
    }
  }
}

/**
 * The secretless methods authenticate with an assertion or a certificate: a client secret or a
 * private key given beside them would be sent nowhere, so it is refused rather than ignored
 * (the caller believes it is in use).
 */
function checkSecretlessCredentials(options: AuthClientOptions, clientAuth: string): void {
  if (clientAuth !== 'client_assertion' && !isMtlsClientAuth(clientAuth)) return;
  for (const option of ['clientSecret', 'privateKey'] as const) {
    if (options[option] !== undefined) {
      throw new OptionError(
        `${where}: \`${option}\` is not used by ${clientAuth}, which authenticates with ${clientAuth === 'client_assertion' ? '`clientAssertion`' : 'the client certificate'}; remove it`,
        'ERR_INVALID_OPTION',
        option,
      );
    }
  }
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
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers in plain JavaScript can pass anything
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

/**
 * The `tls` option against `clientAuth` and `fetch`: the certificate authenticates the client
 * only with a TLS method, and a user's `fetch` must present it itself (it cannot be handed one).
 */
function resolveMtls(options: AuthClientOptions, clientAuth: string) {
  return resolveMtlsOption(
    { clientAuth, tls: options.tls, fetchGiven: options.fetch !== undefined },
    where,
  );
}
