/**
 * Opaque access tokens, verified by asking the authorization server (RFC 7662). A token that is
 * not a compact JWS cannot be checked locally: its introspection answer is, with the checks a
 * JWT's claims get. Active answers are cached for a bounded time, never past the token's `exp`.
 */
import { scrubCredentials } from '../shared/scrub-error.js';
import {
  requestIntrospection,
  type IntrospectionResult,
  type TokenEndpointClientAuth,
} from '../introspection/introspection.js';
import { sha256Base64url } from '../crypto/backend.js';
import {
  optionalPositiveNumber,
  optionKeys,
  rejectUnknownOptions,
  requireString,
  type Clock,
} from '../shared/options.js';
import { requireHttpUrl } from '../shared/url.js';
import type { EndpointResolver } from '../transport/discovery.js';
import { basicCredentials } from '../transport/form.js';
import type { IdpClient } from '../transport/idp-client.js';
import type { ResourceServerEvent } from './events.js';
import { checkIssuer, type IssuerPolicy } from './issuer-policy.js';
import { copyClaims, recheckClaims, type AccessTokenClaims } from './jwt-verify.js';
import { reject } from './rejection.js';
import { b64token } from './request.js';

/**
 * Introspection settings of a resource server: its own client credentials at the authorization
 * server, with which it asks about tokens it cannot verify locally (RFC 7662 §2).
 *
 * A token that is a compact JWS (three base64url parts joined by dots) is verified as a JWT;
 * any other token is introspected. The answer gets the checks a JWT's claims get: `active` must
 * be `true` (else reason `inactive`), `iss` when present must be the issuer (an answer without
 * one is taken to be the issuer's, and gets its `iss`), `exp` is required, `exp` and `nbf` are
 * checked with `clockToleranceSeconds`, `aud` must name the audience, the required scopes must
 * be in `scope`, a `token_type` must be `Bearer` or `DPoP`, and a token whose answer has
 * `cnf.jkt` is bound to that DPoP key: `verifyRequest` accepts it only with the DPoP scheme and
 * a proof by that key. `typ`, `algorithms` and `requiredClaims` are about JWTs and do not apply.
 *
 * When the authorization server cannot be asked (unreachable, an OAuth error such as
 * `invalid_client`, an answer that breaks RFC 7662), the token is refused with reason
 * `introspection`, status 503 and `retryAfter`, as when the key set is unavailable; `cause`
 * holds the error. Neither failures nor inactive answers are cached.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-4
 * @example
 * ```ts
 * const server = createResourceServer({
 *   issuer: 'https://idp.example.com',
 *   audience: 'https://ledger.example.com',
 *   introspection: {
 *     clientId: 'ledger-api',
 *     clientSecret: process.env.LEDGER_API_SECRET!,
 *     cacheMaxSeconds: 30,
 *   },
 * });
 * const claims = await server.verifyRequest(request); // opaque or JWT, DPoP or Bearer
 * ```
 */
export interface ResourceServerIntrospectionOptions {
  /** The resource server's own client id at the authorization server. */
  clientId: string;
  /** The resource server's client secret. Never appears in an error, event or log. */
  clientSecret: string;
  /**
   * How the credentials are sent (RFC 6749 §2.3.1): `'client_secret_basic'` (default) or
   * `'client_secret_post'`.
   */
  clientAuth?: TokenEndpointClientAuth | undefined;
  /** The introspection endpoint; skips discovery. Default: `introspection_endpoint` from discovery. */
  introspectionEndpoint?: string | undefined;
  /**
   * How long an active answer is reused, in seconds; never past the token's `exp` less
   * `clockToleranceSeconds`. A token revoked at the authorization server may be accepted this
   * long after. `0` asks about every request. Default `60`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7662#section-4
   */
  cacheMaxSeconds?: number | undefined;
  /** How many active answers are kept at most; the least recently used goes first. Default `10000`. */
  cacheMaxEntries?: number | undefined;
  /**
   * Whether JWT access tokens are introspected too. `'never'` (default): a JWT is verified
   * locally only, and stays valid until its `exp` even when revoked. `'always'`: a JWT is
   * verified locally first and then introspected; it is refused unless the answer is active,
   * passes the same checks and names the same DPoP key (`cnf.jkt`) as the JWT, or none when the
   * JWT has none; only the JWT's own claims are returned. For issuers that can introspect their
   * JWTs, where revocation must bite within `cacheMaxSeconds`.
   */
  jwt?: 'never' | 'always' | undefined;
}

/** Every option of {@link ResourceServerIntrospectionOptions}; the compiler keeps the list complete. */
const INTROSPECTION_OPTION_KEYS = optionKeys<ResourceServerIntrospectionOptions>()([
  'clientId',
  'clientSecret',
  'clientAuth',
  'introspectionEndpoint',
  'cacheMaxSeconds',
  'cacheMaxEntries',
  'jwt',
]);

/** The introspection options, checked and with defaults filled in. */
export interface ResolvedIntrospection {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientAuth: TokenEndpointClientAuth;
  readonly endpoint: string | undefined;
  readonly cacheMaxSeconds: number;
  readonly cacheMaxEntries: number;
  readonly jwt: 'never' | 'always';
}

/**
 * Seconds a client is asked to wait (`Retry-After`) when the authorization server could not be
 * asked about its token. Nothing is held back meanwhile: the next request asks again.
 */
export const INTROSPECTION_RETRY_AFTER_SECONDS = 5;

/** Checks the `introspection` option; `undefined` when it is not given. */
export function resolveIntrospectionOptions(
  value: unknown,
  where: string,
  allowInsecureHttp: boolean,
): ResolvedIntrospection | undefined {
  if (value === undefined) return undefined;
  rejectUnknownOptions(value, INTROSPECTION_OPTION_KEYS, where, 'introspection');
  const o = value as Partial<Record<keyof ResourceServerIntrospectionOptions, unknown>>;
  const clientAuth = o.clientAuth ?? 'client_secret_basic';
  if (clientAuth !== 'client_secret_basic' && clientAuth !== 'client_secret_post') {
    throw new TypeError(
      `${where}: \`introspection.clientAuth\` must be 'client_secret_basic' or 'client_secret_post'`,
    );
  }
  const jwt = o.jwt ?? 'never';
  if (jwt !== 'never' && jwt !== 'always') {
    throw new TypeError(`${where}: \`introspection.jwt\` must be 'never' or 'always'`);
  }
  const cacheMaxEntries = optionalPositiveNumber(
    o.cacheMaxEntries,
    'introspection.cacheMaxEntries',
    where,
    10_000,
  );
  if (!Number.isInteger(cacheMaxEntries)) {
    throw new TypeError(`${where}: \`introspection.cacheMaxEntries\` must be an integer`);
  }
  return Object.freeze({
    clientId: requireString(o.clientId, 'introspection.clientId', where),
    clientSecret: requireString(o.clientSecret, 'introspection.clientSecret', where),
    clientAuth,
    endpoint:
      o.introspectionEndpoint === undefined
        ? undefined
        : requireHttpUrl(o.introspectionEndpoint, 'introspection.introspectionEndpoint', where, {
            allowInsecureHttp,
          }),
    cacheMaxSeconds: optionalPositiveNumber(
      o.cacheMaxSeconds,
      'introspection.cacheMaxSeconds',
      where,
      60,
      { allowZero: true },
    ),
    cacheMaxEntries,
    jwt,
  });
}

/** A compact JWS (RFC 7515 §7.1): three base64url parts joined by dots, the first not empty. */
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** What an opaque-token verifier needs from its resource server. */
export interface OpaqueTokenContext {
  readonly options: ResolvedIntrospection;
  readonly client: IdpClient;
  readonly resolver: EndpointResolver;
  /** The issuers whose tokens are accepted (lists, aliases, templates), as for JWTs. */
  readonly issuers: IssuerPolicy;
  /** The issuer whose introspection endpoint answers: an answer without `iss` gets it. */
  readonly answeringIssuer: string | undefined;
  readonly clockToleranceSeconds: number;
  readonly maxTokenLength: number;
  readonly timeoutMs: number;
  readonly now: Clock;
  readonly emit: ((event: ResourceServerEvent) => void) | undefined;
}

/** Verifies tokens through introspection, for one resource server. */
export interface OpaqueTokenVerifier {
  /** Whether `token` is introspected rather than verified as a JWT: a string that is no compact JWS. */
  introspects(token: unknown): token is string;
  /** Whether JWTs, once verified locally, must also be reported active (`jwt: 'always'`). */
  readonly confirmsJwts: boolean;
  /**
   * The claims of an opaque token: its introspection answer (cached or fresh), checked for the
   * time and `audience`. Scopes and proof of possession are the caller's to check.
   */
  verify(token: string, audience: readonly string[] | undefined): Promise<AccessTokenClaims>;
  /**
   * Refuses a locally verified JWT unless introspection reports it active, for this time and
   * `audience`, and bound to the same DPoP key as the JWT's `cnf.jkt` (or to none).
   */
  confirmActive(
    token: string,
    claims: AccessTokenClaims,
    audience: readonly string[] | undefined,
  ): Promise<void>;
}

/** An active answer that passed the checks that do not depend on the call. */
interface CachedAnswer {
  /** Private: every caller gets a copy. */
  readonly claims: AccessTokenClaims;
  /** Epoch milliseconds on the injected clock until which it may be reused. */
  readonly until: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The checks of an active answer that hold for every call with this token: `iss`, `exp`,
 * `token_type` and `cnf`. Returns the claims as a JWT would carry them (without `active`).
 */
function checkAnswer(
  answer: IntrospectionResult,
  issuers: IssuerPolicy,
  answeringIssuer: string | undefined,
): AccessTokenClaims {
  const { active: _active, ...claims } = answer;
  if (claims.iss === undefined && answeringIssuer !== undefined) claims.iss = answeringIssuer;
  checkIssuer(claims, issuers);
  if (claims.exp === undefined) {
    reject('claims', 'the token has no exp claim', { claim: 'exp' });
  }
  const { token_type: tokenType, cnf } = claims;
  const kind = typeof tokenType === 'string' ? tokenType.toLowerCase() : undefined;
  if (tokenType !== undefined && kind !== 'bearer' && kind !== 'dpop') {
    reject('type', 'the token is not an access token (token_type)', {
      detail: `token_type is ${JSON.stringify(String(tokenType).slice(0, 32))}; expected Bearer or DPoP`,
    });
  }
  if (
    cnf !== undefined &&
    (!isObject(cnf) || (cnf.jkt !== undefined && (typeof cnf.jkt !== 'string' || cnf.jkt === '')))
  ) {
    reject('claims', 'the cnf claim has the wrong type', { claim: 'cnf' });
  }
  if (kind === 'dpop' && cnf?.jkt === undefined) {
    reject('dpop', 'the token is of type DPoP but bound to no key');
  }
  return claims as AccessTokenClaims;
}

/**
 * Makes the verifier: a bounded, least-recently-used cache of active answers keyed by the
 * SHA-256 of the token (the token itself is never kept), one request in flight per token shared
 * by every caller, and no memory of failures or inactive answers.
 */
export function createOpaqueTokenVerifier(context: OpaqueTokenContext): OpaqueTokenVerifier {
  const { options, now, emit } = context;
  const cache = new Map<string, CachedAnswer>();
  const inFlight = new Map<string, Promise<AccessTokenClaims>>();
  const nowSeconds = (): number => now().getTime() / 1000;

  function remember(key: string, claims: AccessTokenClaims, askedAt: number): void {
    const until = Math.min(
      askedAt + options.cacheMaxSeconds * 1000,
      (claims.exp - context.clockToleranceSeconds) * 1000,
    );
    if (until <= askedAt) return;
    cache.delete(key);
    if (cache.size >= options.cacheMaxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(key, { claims, until });
  }

  async function ask(token: string, key: string): Promise<AccessTokenClaims> {
    const askedAt = now().getTime();
    let answer: IntrospectionResult;
    try {
      const url = await context.resolver.resolve('introspection_endpoint');
      answer = await requestIntrospection({
        client: context.client,
        url,
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        clientAuth: options.clientAuth,
        token,
        tokenTypeHint: 'access_token',
        timeoutMs: context.timeoutMs,
      });
    } catch (failure) {
      // A `fetch` of the caller's may quote the request it failed on.
      const cause = scrubCredentials(failure, [
        token,
        options.clientSecret,
        basicCredentials(options.clientId, options.clientSecret),
      ]);
      const durationMs = now().getTime() - askedAt;
      emit?.({ type: 'token_introspected', ok: false, durationMs, error: cause });
      return reject(
        'introspection',
        'the authorization server could not be asked about the token',
        {
          retryAfter: INTROSPECTION_RETRY_AFTER_SECONDS,
          cause,
        },
      );
    }
    const active = answer.active === true;
    emit?.({ type: 'token_introspected', ok: true, active, durationMs: now().getTime() - askedAt });
    if (!active) reject('inactive', 'the token is not active');
    const claims = checkAnswer(answer, context.issuers, context.answeringIssuer);
    remember(key, claims, askedAt);
    return claims;
  }

  /** The checked answer for `token`: from the cache, from a request in flight, or asked now. */
  async function lookup(token: string): Promise<AccessTokenClaims> {
    const key = await sha256Base64url(token);
    const hit = cache.get(key);
    if (hit !== undefined) {
      if (now().getTime() < hit.until) {
        cache.delete(key);
        cache.set(key, hit);
        emit?.({ type: 'introspection_cache_hit' });
        return hit.claims;
      }
      cache.delete(key);
    }
    let pending = inFlight.get(key);
    if (pending === undefined) {
      pending = ask(token, key).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  function introspects(token: unknown): token is string {
    if (typeof token !== 'string' || token === '') return false;
    // Too long either way; this path refuses it before any work.
    return token.length > context.maxTokenLength || !compactJws.test(token);
  }

  async function verify(
    token: string,
    audience: readonly string[] | undefined,
  ): Promise<AccessTokenClaims> {
    // Nothing that could not be a Bearer token is sent to the authorization server.
    if (token.length > context.maxTokenLength || !b64token.test(token)) {
      reject('malformed', 'the access token is malformed');
    }
    const claims = await lookup(token);
    recheckClaims(claims, context, audience, nowSeconds);
    return copyClaims(claims);
  }

  async function confirmActive(
    token: string,
    claims: AccessTokenClaims,
    audience: readonly string[] | undefined,
  ): Promise<void> {
    const answer = await lookup(token);
    recheckClaims(answer, context, audience, nowSeconds);
    if (answer.cnf?.jkt !== claims.cnf?.jkt) {
      reject('dpop', 'the token and its introspection name different DPoP keys');
    }
  }

  return { introspects, confirmsJwts: options.jwt === 'always', verify, confirmActive };
}
