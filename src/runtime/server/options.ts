import { emitter } from '../shared/events.js';
import type { ResourceServerEvent } from './events.js';
import {
  optionalBoolean,
  optionalPositiveNumber,
  optionKeys,
  rejectUnknownOptions,
  resolveClock,
  resolveFetch,
  type Clock,
  type FetchLike,
} from '../shared/options.js';
import { requireHttpUrl } from '../shared/url.js';
import {
  ASYMMETRIC_ALGORITHMS,
  validateAlgorithms,
  type AsymmetricAlgorithm,
} from './algorithms.js';
import { normaliseMediaType } from './compact-jws.js';
import { createRotatingNonceProvider, type DpopNonceProvider } from './dpop-nonce.js';
import {
  resolveIntrospectionOptions,
  type ResolvedIntrospection,
  type ResourceServerIntrospectionOptions,
} from './opaque-tokens.js';
import { createMemoryReplayStore, type ReplayStore } from './replay-store.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../transport/idp-client.js';

/**
 * DPoP settings of a resource server (RFC 9449). DPoP is always accepted; these tune it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 * @example
 * ```ts
 * const server = createResourceServer({
 *   issuer: 'https://idp.example.com',
 *   audience: 'https://api.example.com',
 *   dpop: { required: true, iatWindowSeconds: 30, nonce: true, algorithms: ['ES256', 'EdDSA'] },
 * });
 * ```
 */
export interface ResourceServerDpopOptions {
  /** Refuse Bearer tokens: every request must be DPoP-bound. Default `false`. */
  required?: boolean | undefined;
  /** Algorithms a proof may use; asymmetric only. Default: every supported one. */
  algorithms?: readonly AsymmetricAlgorithm[] | undefined;
  /**
   * How old a proof's `iat` may be, in seconds (RFC 9449 §11.1). Default `60`. A proof may be
   * at most `clockToleranceSeconds` in the future.
   */
  iatWindowSeconds?: number | undefined;
  /**
   * Require server-issued nonces (RFC 9449 §9). `true` keeps a random nonce in memory and
   * rotates it every 300 s; `{ lifetimeSeconds }` sets the rotation; a {@link DpopNonceProvider}
   * brings your own (needed when several instances must agree). Default: no nonce.
   */
  nonce?: boolean | { lifetimeSeconds?: number | undefined } | DpopNonceProvider | undefined;
}

/** Every option of {@link ResourceServerDpopOptions}; the compiler keeps the list complete. */
const DPOP_OPTION_KEYS = optionKeys<ResourceServerDpopOptions>()([
  'required',
  'algorithms',
  'iatWindowSeconds',
  'nonce',
]);

const NONCE_OPTION_KEYS = optionKeys<{ lifetimeSeconds?: number | undefined }>()([
  'lifetimeSeconds',
]);

/**
 * Options of {@link createResourceServer}. `issuer` and `audience` are required (RFC 9068 §4:
 * a resource server must check that a token is meant for it).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3
 * @example
 * ```ts
 * const server = createResourceServer({
 *   issuer: 'https://idp.example.com',
 *   audience: 'https://orders.example.com',
 *   requiredScopes: ['orders:read'],
 * });
 * ```
 */
export interface ResourceServerOptions {
  /** The issuer identifier; tokens' `iss` must equal it exactly. Endpoints are discovered from it. */
  issuer: string;
  /**
   * Expected `aud`: the token must name at least one of these. Required. `null` skips the
   * check, which is dangerous: any token of the issuer, meant for any other service, is then
   * accepted here (RFC 9068 §4 requires the check; RFC 8725 §3.9). A call's own `audience`
   * replaces this one.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
   */
  audience: string | readonly string[] | null;
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default `30`. */
  clockToleranceSeconds?: number | undefined;
  /**
   * Algorithms an access token may be signed with. Asymmetric only: `none` and `HS*` are a
   * `TypeError` here and never accepted. Default: RS256–512, PS256–512, ES256–512, EdDSA, Ed25519.
   */
  algorithms?: readonly AsymmetricAlgorithm[] | undefined;
  /** The JWKS URL; skips discovery. Default: `jwks_uri` from discovery. */
  jwksUri?: string | undefined;
  /**
   * Scopes every token must grant (space-separated string or array). A call's own
   * `requiredScopes` replaces these. Default: none.
   */
  requiredScopes?: string | readonly string[] | undefined;
  /**
   * Required JWS `typ` (RFC 9068 §4: `at+jwt`; `application/at+jwt` is the same). `false` skips
   * the check for issuers that do not follow RFC 9068; then set `audience`, or an ID token from
   * the same issuer would pass. Default `'at+jwt'`.
   */
  typ?: string | false | undefined;
  /**
   * Claims every token must carry; a token without one is refused with reason `claims` and the
   * missing claim's name in the error's `claim` (never in the answer to the client). `iss` and
   * `exp` are always required. Default, when `typ` is `at+jwt`: the claims RFC 9068 §2.2 makes
   * required, `iss`, `exp`, `aud`, `sub`, `client_id`, `iat` and `jti`; otherwise `iss` and
   * `exp`. Give a shorter list for an issuer that leaves some out (some issue client-credentials
   * tokens without `sub`).
   *
   * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
   */
  requiredClaims?: readonly string[] | undefined;
  /** Used for discovery and the key set. Default: `globalThis.fetch`. */
  fetch?: FetchLike | undefined;
  /** The clock of every time decision. Default: `() => new Date()`. */
  now?: Clock | undefined;
  /** Where DPoP proof `jti`s are remembered. Default: {@link createMemoryReplayStore} on `now`. */
  replayStore?: ReplayStore | undefined;
  /**
   * Observability: told about key-set fetches and refused tokens (with the reason, never the
   * token). A listener that throws is ignored.
   */
  onEvent?: ((event: ResourceServerEvent) => void) | undefined;
  /** DPoP settings. */
  dpop?: ResourceServerDpopOptions | undefined;
  /** A key set this old (seconds) is fetched again before use. Default `600`. */
  jwksCacheMaxAgeSeconds?: number | undefined;
  /**
   * At most one key-set fetch per this many seconds, whatever prompts it (an unknown `kid`, age,
   * a failed fetch). Default `30`.
   */
  jwksCooldownSeconds?: number | undefined;
  /**
   * While the key set cannot be fetched, the last good one is used until it is this old
   * (seconds since it was fetched), then every token is refused with reason `jwks`. At least
   * `jwksCacheMaxAgeSeconds`. Default `3600`, or `jwksCacheMaxAgeSeconds` when that is larger.
   */
  jwksMaxStaleSeconds?: number | undefined;
  /** Timeout of each request to the authorization server, in milliseconds. Default `5000`. */
  timeoutMs?: number | undefined;
  /**
   * The most bytes of an answer of the authorization server (discovery document, key set,
   * error, introspection answer) that are read; a longer one is cancelled and the key set
   * counts as unavailable (`TokenError` reason `jwks`, or `introspection` for an introspection
   * answer; `cause` a `ProtocolError` with code `too_large`).
   * Default 1 MiB (1 048 576).
   */
  maxResponseBytes?: number | undefined;
  /** Longer tokens are refused before any parsing. Default `16384` characters. */
  maxTokenLength?: number | undefined;
  /** A `realm` for the `WWW-Authenticate` challenges (RFC 6750 §3). Default: none. */
  realm?: string | undefined;
  /**
   * Accept plain `http:` for `issuer` and `jwksUri` (and the endpoints discovery finds) on hosts
   * that are not loopback. Dangerous: anyone on the path can hand this server a key set of their
   * own and so mint tokens it accepts. Loopback (`localhost`, `127.0.0.0/8`, `[::1]`) is allowed
   * without it, for tests and local IdPs. Default `false`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.1
   * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
   */
  allowInsecureHttp?: boolean | undefined;
  /**
   * Verify opaque access tokens by introspection (RFC 7662) with these client credentials: a
   * token that is not a compact JWS is introspected, its answer checked like a JWT's claims
   * and cached for `cacheMaxSeconds`. Without it, such a token is refused as `malformed`.
   * Default: none.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
   */
  introspection?: ResourceServerIntrospectionOptions | undefined;
}

/** Every option of {@link ResourceServerOptions}; the compiler keeps the list complete. */
const RESOURCE_SERVER_OPTION_KEYS = optionKeys<ResourceServerOptions>()([
  'issuer',
  'audience',
  'clockToleranceSeconds',
  'algorithms',
  'jwksUri',
  'requiredScopes',
  'typ',
  'requiredClaims',
  'fetch',
  'now',
  'replayStore',
  'onEvent',
  'dpop',
  'jwksCacheMaxAgeSeconds',
  'jwksCooldownSeconds',
  'jwksMaxStaleSeconds',
  'timeoutMs',
  'maxTokenLength',
  'realm',
  'allowInsecureHttp',
  'maxResponseBytes',
  'introspection',
]);

/** The options, checked and with defaults filled in. */
export interface ResolvedOptions {
  issuer: string;
  audience: readonly string[] | undefined;
  clockToleranceSeconds: number;
  algorithms: ReadonlySet<AsymmetricAlgorithm>;
  jwksUri: string | undefined;
  requiredScopes: readonly string[] | undefined;
  typ: string | false;
  /** Always with `iss` and `exp`. */
  requiredClaims: readonly string[];
  fetch: FetchLike;
  now: Clock;
  replayStore: ReplayStore;
  dpopRequired: boolean;
  dpopAlgorithms: ReadonlySet<AsymmetricAlgorithm>;
  iatWindowSeconds: number;
  nonce: DpopNonceProvider | undefined;
  jwksCacheMaxAgeSeconds: number;
  jwksCooldownSeconds: number;
  jwksMaxStaleSeconds: number;
  timeoutMs: number;
  maxResponseBytes: number;
  maxTokenLength: number;
  realm: string | undefined;
  emit: ((event: ResourceServerEvent) => void) | undefined;
  /** Plain `http:` to hosts other than loopback is accepted (for discovered endpoints too). */
  allowInsecureHttp: boolean;
  /** Opaque tokens are introspected with these; `undefined`: they are refused. */
  introspection: ResolvedIntrospection | undefined;
}

const WHERE = 'createResourceServer';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An audience option: a non-empty string or a non-empty array of them. */
export function validateAudience(value: unknown, where: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string' && item !== '')
  ) {
    throw new TypeError(
      `${where}: \`audience\` must be a non-empty string or a non-empty array of them`,
    );
  }
  return Object.freeze([...(list as string[])]);
}

/** A scopes option: a space-separated string or an array of scope tokens (RFC 6749 §3.3). */
export function validateScopes(
  value: unknown,
  where: string,
  name = 'requiredScopes',
): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? value.split(' ').filter((scope) => scope !== '') : value;
  const scopeToken = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
  if (
    !Array.isArray(list) ||
    !list.every((item) => typeof item === 'string' && scopeToken.test(item))
  ) {
    throw new TypeError(
      `${where}: \`${name}\` must be a space-separated string or an array of scope tokens (RFC 6749 §3.3)`,
    );
  }
  return Object.freeze([...new Set(list as string[])]);
}

/**
 * The claims RFC 9068 §2.2 requires of a JWT access token: the default `requiredClaims` of a
 * resource server whose `typ` is `at+jwt`. A base for a list relaxed for one issuer.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 * @example
 * ```ts
 * // This issuer's client-credentials tokens carry no `sub`.
 * const requiredClaims = RFC9068_REQUIRED_CLAIMS.filter((claim) => claim !== 'sub');
 * const server = createResourceServer({ issuer, audience, requiredClaims });
 * ```
 */
export const RFC9068_REQUIRED_CLAIMS: readonly string[] = Object.freeze([
  'iss',
  'exp',
  'aud',
  'sub',
  'client_id',
  'iat',
  'jti',
]);

function validateRequiredClaims(value: unknown, typ: string | false): readonly string[] {
  if (value === undefined) return typ === 'at+jwt' ? RFC9068_REQUIRED_CLAIMS : ['iss', 'exp'];
  if (!Array.isArray(value) || !value.every((name) => typeof name === 'string' && name !== '')) {
    throw new TypeError(
      `${WHERE}: \`requiredClaims\` must be an array of claim names such as ['iss', 'exp', 'sub']`,
    );
  }
  return Object.freeze([...new Set(['iss', 'exp', ...(value as string[])])]);
}

/** `audience` is required; `null` is the explicit, documented way to go without the check. */
function requireAudience(value: unknown): readonly string[] | undefined {
  if (value === undefined) {
    throw new TypeError(
      `${WHERE}: \`audience\` is required: the \`aud\` to accept, or \`null\` to accept any (which RFC 9068 §4 forbids)`,
    );
  }
  return value === null ? undefined : validateAudience(value, WHERE);
}

function validateTyp(value: unknown): string | false {
  if (value === undefined) return 'at+jwt';
  if (value === false) return false;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(
      `${WHERE}: \`typ\` must be a media type such as 'at+jwt', or false to skip the check`,
    );
  }
  return normaliseMediaType(value.trim());
}

function validateReplayStore(value: unknown, now: Clock): ReplayStore {
  if (value === undefined) return createMemoryReplayStore({ now });
  if (!isObject(value) || typeof value['checkAndSet'] !== 'function') {
    throw new TypeError(
      `${WHERE}: \`replayStore\` must have a checkAndSet(key, ttlSeconds) method`,
    );
  }
  return value as unknown as ReplayStore;
}

function validateNonce(value: unknown, now: Clock): DpopNonceProvider | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return createRotatingNonceProvider(300, now);
  if (
    isObject(value) &&
    typeof value['current'] === 'function' &&
    typeof value['isValid'] === 'function'
  ) {
    return value as unknown as DpopNonceProvider;
  }
  if (isObject(value) && !('current' in value) && !('isValid' in value)) {
    rejectUnknownOptions(value, NONCE_OPTION_KEYS, WHERE, 'dpop.nonce');
    const lifetime = optionalPositiveNumber(
      value['lifetimeSeconds'],
      'dpop.nonce.lifetimeSeconds',
      WHERE,
      300,
    );
    return createRotatingNonceProvider(lifetime, now);
  }
  throw new TypeError(
    `${WHERE}: \`dpop.nonce\` must be a boolean, { lifetimeSeconds }, or an object with current() and isValid(nonce)`,
  );
}

function validateRealm(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(value)) {
    throw new TypeError(`${WHERE}: \`realm\` must be printable ASCII without '"' or '\\'`);
  }
  return value;
}

/** Checks every option when the factory is called; a bad one is a `TypeError` naming it. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (!isObject(options)) {
    throw new TypeError(`${WHERE}: options must be an object with at least \`issuer\``);
  }
  rejectUnknownOptions(options, RESOURCE_SERVER_OPTION_KEYS, WHERE);
  const o = options as Partial<Record<keyof ResourceServerOptions, unknown>>;
  const allowInsecureHttp = optionalBoolean(o.allowInsecureHttp, 'allowInsecureHttp', WHERE, false);
  const issuer = requireHttpUrl(o.issuer, 'issuer', WHERE, { allowInsecureHttp });
  const now = resolveClock(o.now as Clock | undefined, WHERE);
  const fetch = resolveFetch(o.fetch as FetchLike | undefined, WHERE);

  const dpop = o.dpop ?? {};
  if (!isObject(dpop)) throw new TypeError(`${WHERE}: \`dpop\` must be an object`);
  rejectUnknownOptions(dpop, DPOP_OPTION_KEYS, WHERE, 'dpop');
  if (dpop['required'] !== undefined && typeof dpop['required'] !== 'boolean') {
    throw new TypeError(`${WHERE}: \`dpop.required\` must be a boolean`);
  }

  const jwksCacheMaxAgeSeconds = optionalPositiveNumber(
    o.jwksCacheMaxAgeSeconds,
    'jwksCacheMaxAgeSeconds',
    WHERE,
    600,
  );
  const jwksMaxStaleSeconds = optionalPositiveNumber(
    o.jwksMaxStaleSeconds,
    'jwksMaxStaleSeconds',
    WHERE,
    Math.max(3600, jwksCacheMaxAgeSeconds),
  );
  if (jwksMaxStaleSeconds < jwksCacheMaxAgeSeconds) {
    throw new TypeError(
      `${WHERE}: \`jwksMaxStaleSeconds\` must be at least \`jwksCacheMaxAgeSeconds\``,
    );
  }
  const typ = validateTyp(o.typ);
  const maxTokenLength = optionalPositiveNumber(o.maxTokenLength, 'maxTokenLength', WHERE, 16_384);
  if (!Number.isInteger(maxTokenLength)) {
    throw new TypeError(`${WHERE}: \`maxTokenLength\` must be an integer`);
  }

  return {
    issuer,
    audience: requireAudience(o.audience),
    clockToleranceSeconds: optionalPositiveNumber(
      o.clockToleranceSeconds,
      'clockToleranceSeconds',
      WHERE,
      30,
      {
        allowZero: true,
      },
    ),
    algorithms: validateAlgorithms(o.algorithms, 'algorithms', WHERE, ASYMMETRIC_ALGORITHMS),
    jwksUri:
      o.jwksUri === undefined
        ? undefined
        : requireHttpUrl(o.jwksUri, 'jwksUri', WHERE, { allowInsecureHttp }),
    requiredScopes: validateScopes(o.requiredScopes, WHERE),
    typ,
    requiredClaims: validateRequiredClaims(o.requiredClaims, typ),
    fetch,
    now,
    replayStore: validateReplayStore(o.replayStore, now),
    emit: emitter(o.onEvent as ((event: ResourceServerEvent) => void) | undefined),
    dpopRequired: dpop['required'] === true,
    dpopAlgorithms: validateAlgorithms(
      dpop['algorithms'],
      'dpop.algorithms',
      WHERE,
      ASYMMETRIC_ALGORITHMS,
    ),
    iatWindowSeconds: optionalPositiveNumber(
      dpop['iatWindowSeconds'],
      'dpop.iatWindowSeconds',
      WHERE,
      60,
    ),
    nonce: validateNonce(dpop['nonce'], now),
    jwksCacheMaxAgeSeconds,
    jwksCooldownSeconds: optionalPositiveNumber(
      o.jwksCooldownSeconds,
      'jwksCooldownSeconds',
      WHERE,
      30,
      {
        allowZero: true,
      },
    ),
    jwksMaxStaleSeconds,
    timeoutMs: optionalPositiveNumber(o.timeoutMs, 'timeoutMs', WHERE, 5000),
    maxResponseBytes: optionalPositiveNumber(
      o.maxResponseBytes,
      'maxResponseBytes',
      WHERE,
      DEFAULT_MAX_RESPONSE_BYTES,
    ),
    maxTokenLength,
    realm: validateRealm(o.realm),
    allowInsecureHttp,
    introspection: resolveIntrospectionOptions(o.introspection, WHERE, allowInsecureHttp),
  };
}
