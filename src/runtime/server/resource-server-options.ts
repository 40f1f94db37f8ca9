/**
 * The options of {@link createResourceServer}, as callers write them: their types, with the
 * documentation of each, and the complete key lists the factory checks them against. Their
 * check and defaults are in `resolve-options.ts`.
 */
import type { ClaimValue, ProfileName } from '../profiles/types.js';
import type { AsymmetricAlgorithm } from '../crypto/algorithms.js';
import { optionKeys, type Clock, type FetchLike } from '../shared/options.js';
import type { DpopNonceProvider } from './dpop-nonce.js';
import type { ResourceServerIntrospectionOptions } from './introspection-options.js';
import type { IssuerTemplate } from './issuer-policy.js';
import type { createMemoryReplayStore, ReplayStore } from './replay-store.js';
import type { createResourceServer } from './resource-server.js';
import type { ResourceServerEvent } from './resource-server-events.js';
import type { RFC9068_REQUIRED_CLAIMS } from './token-policy.js';

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
export const DPOP_OPTION_KEYS = optionKeys<ResourceServerDpopOptions>()([
  'required',
  'algorithms',
  'iatWindowSeconds',
  'nonce',
]);

export const NONCE_OPTION_KEYS = optionKeys<{ lifetimeSeconds?: number | undefined }>()([
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
  /**
   * The issuer identifier, or several: a token's `iss` must equal one of them exactly (RFC 8414
   * §3.3, no normalisation), or one of the spellings the `profile` knows for it. The key set is
   * discovered from the first issuer without a placeholder (or taken from `jwksUri`), and
   * every issuer listed must be served by that one key set: list the v1.0 and v2.0 issuers of
   * one Entra tenant, not two IdPs (give each IdP its own resource server).
   *
   * An issuer holding the placeholder of `issuerTemplate` (the `entra` profile's `{tenantid}`)
   * is a template: the token's claim (`tid`) fills it, and must be one of `tenants`. A template
   * names no discovery document, so with templates only, `jwksUri` is required.
   *
   * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.3
   * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
   */
  issuer: string | readonly string[];
  /**
   * An identity provider whose tokens this server verifies: its profile sets `typ`,
   * `requiredClaims`, `claimValues`, `absentClaims`, `scopeClaims`, `clientIdClaims`, issuer
   * spellings and templates, so that its access tokens verify and its ID, logout, refresh and
   * userinfo JWTs do not. An option given explicitly wins over the profile. `cognito` and
   * `google` need `clientIds`; `entra` with `{tenantid}` issuers needs `tenants`. Default: none
   * (RFC 9068 access tokens).
   *
   * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
   */
  profile?: ProfileName | undefined;
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
  /** Another name for `clockToleranceSeconds`, as the seed product spelt it; give one or the other. */
  clockToleranceSec?: number | undefined;
  /**
   * Algorithms an access token may be signed with. Asymmetric only: `none` and `HS*` are a
   * `TypeError` here and never accepted. Default: RS256–512, PS256–512, ES256–512, EdDSA, Ed25519.
   */
  algorithms?: readonly AsymmetricAlgorithm[] | undefined;
  /** The JWKS URL; skips discovery. Default: `jwks_uri` from discovery. */
  jwksUri?: string | undefined;
  /**
   * Scopes every token must grant (space-separated string or array), read from the claims
   * `scopeClaims` names. A call's own `requiredScopes` replaces these. Default: none.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2.3
   */
  requiredScopes?: string | readonly string[] | undefined;
  /** Another name for `requiredScopes`, as the middleware spells it; give one or the other. */
  scopes?: string | readonly string[] | undefined;
  /**
   * Accepted JWS `typ` values, compared as media types (`application/at+jwt` is `at+jwt`):
   * one, or a list. `false` is for issuers that type access tokens like their other JWTs: the
   * header `typ` may then be absent, `JWT` or `at+jwt`, and nothing else (`logout+jwt`,
   * `dpop+jwt`, … stay refused). With `false`, the audience alone does not keep the issuer's ID
   * tokens out (an ID token's `aud` may be this service): use a `profile`, or markers of your
   * own (`requiredClaims`, `claimValues`, `absentClaims`, `clientIds`). Default `'at+jwt'`, or
   * the profile's.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
   * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.11
   */
  typ?: string | readonly string[] | false | undefined;
  /**
   * Claims every token must carry; an inner array means "at least one of these" (Entra:
   * `['azp', 'appid']`). A token without one is refused with reason `claims` and the missing
   * claim's name in the error's `claim` and message (never in the answer to the client). `iss`
   * and `exp` are always required. Default: the profile's list; without one, a token whose
   * header `typ` is `at+jwt` must carry the claims RFC 9068 §2.2 makes required
   * ({@link RFC9068_REQUIRED_CLAIMS}: `iss`, `exp`, `aud`, `sub`, `client_id`, `iat`, `jti`),
   * whatever `typ` accepts, and any other token `iss` and `exp`. A list given replaces that
   * default for every token: give a shorter one for an issuer that leaves some out (some issue
   * client-credentials tokens without `sub`).
   *
   * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
   */
  requiredClaims?: readonly (string | readonly string[])[] | undefined;
  /**
   * Claims that must be present with one of the given values, such as Keycloak's
   * `{ typ: ['Bearer', 'DPoP'] }` or Cognito's `{ token_use: 'access' }`. Refused with reason
   * `claims`. Default: the profile's, else none.
   */
  claimValues?: Readonly<Record<string, ClaimValue | readonly ClaimValue[]>> | undefined;
  /**
   * Claims that must be absent: the marks of ID tokens (`nonce`, `at_hash`, `c_hash`). Refused
   * with reason `claims`. Default: the profile's, else none.
   *
   * @see https://openid.net/specs/openid-connect-core-1_0.html#IDToken
   */
  absentClaims?: readonly string[] | undefined;
  /**
   * The claims scopes are read from, in order: a string claim is space-separated, an array
   * claim lists them, an object claim's keys are them (ZITADEL's project roles). `scope` may be
   * a string or a JSON array of strings. A name starting with `/` is an RFC 6901 JSON Pointer
   * into nested claims: `'/realm_access/roles'` and `'/resource_access/orders-api/roles'` read
   * Keycloak's realm and client roles. Default: the profile's, else `['scope']`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2.3
   * @see https://www.rfc-editor.org/rfc/rfc6901
   */
  scopeClaims?: readonly string[] | undefined;
  /**
   * The OAuth clients whose tokens are accepted, matched against the first of `clientIdClaims`
   * the token carries; any other is refused with reason `audience`. Needed where the audience
   * does not say which caller a token is from (`cognito`, `google`). Default: any client.
   */
  clientIds?: readonly string[] | undefined;
  /**
   * The claims that name the client, in order. Default: the profile's, else
   * `['client_id', 'azp', 'appid']`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
   */
  clientIdClaims?: readonly string[] | undefined;
  /**
   * The tenants whose tokens are accepted through an issuer template: the values the template's
   * claim (Entra: `tid`) may have. Required with a template, refused without one.
   *
   * @see https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-the-issuer
   */
  tenants?: readonly string[] | undefined;
  /**
   * What makes an issuer a template: its `placeholder` (`'{tenantid}'`), filled from the
   * token's `claim` (`'tid'`). Default: the profile's (`entra`), else none.
   */
  issuerTemplate?: IssuerTemplate | undefined;
  /**
   * Check a key's own `issuer` member, when the key set publishes one (Entra's multi-tenant
   * key set does): filled from the token's tenant, it must be an issuer accepted for the
   * token, else the token is refused with reason `issuer`. Default: the profile's (`true` for
   * `entra`), else `false`.
   */
  keyIssuer?: boolean | undefined;
  /** Used for discovery and the key set. Default: `globalThis.fetch`. */
  fetch?: FetchLike | undefined;
  /** Another name for `fetch`, as the seed product spelt it; give one or the other. */
  fetchImpl?: FetchLike | undefined;
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
export const RESOURCE_SERVER_OPTION_KEYS = optionKeys<ResourceServerOptions>()([
  'issuer',
  'profile',
  'audience',
  'clockToleranceSeconds',
  'clockToleranceSec',
  'algorithms',
  'jwksUri',
  'requiredScopes',
  'scopes',
  'typ',
  'requiredClaims',
  'claimValues',
  'absentClaims',
  'scopeClaims',
  'clientIds',
  'clientIdClaims',
  'tenants',
  'issuerTemplate',
  'keyIssuer',
  'fetch',
  'fetchImpl',
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

/** The other names options may be given under, and the options they stand for. */
export const RESOURCE_SERVER_ALIASES = {
  scopes: 'requiredScopes',
  clockToleranceSec: 'clockToleranceSeconds',
  fetchImpl: 'fetch',
} as const;
