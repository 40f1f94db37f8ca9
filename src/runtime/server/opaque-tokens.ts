/**
 * Opaque access tokens, verified by asking the authorization server (RFC 7662). A token that is
 * not a compact JWS cannot be checked locally: its introspection answer is, with the checks a
 * JWT's claims get. Active answers are cached for a bounded time, never past the token's `exp`.
 */
import { scrubCredentials } from '../shared/scrub-error.js';
import { sha256Base64url } from '../crypto/backend.js';
import type { IntrospectionResult } from '../introspection/introspection-result.js';
import { requestIntrospection } from '../introspection/request.js';
import type { Clock } from '../shared/options.js';
import { createSingleFlight } from '../shared/single-flight.js';
import {
  mtlsEndpointMetadata,
  publishedEndpoint,
  type EndpointResolver,
} from '../transport/discovery.js';
import { basicCredentials } from '../shared/form.js';
import { createIdpClient, type IdpClient } from '../transport/idp-client.js';
import type { ResourceServerEvent } from './resource-server-events.js';
import { checkIssuer, type IssuerPolicy } from './issuer-policy.js';
import { copyClaims, recheckClaims, type AccessTokenClaims } from './jwt-verify.js';
import { checkSameCertificateBinding } from './certificate-binding.js';
import { reject } from './rejection.js';
import type { ResolvedIntrospection } from './introspection-options.js';
import { b64token } from './request.js';

/**
 * Seconds a client is asked to wait (`Retry-After`) when the authorization server could not be
 * asked about its token. Nothing is held back meanwhile: the next request asks again.
 */
export const INTROSPECTION_RETRY_AFTER_SECONDS = 5;

/** A compact JWS (RFC 7515 §7.1): three base64url parts joined by dots, the first not empty. */
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** What an opaque-token verifier needs from its resource server. */
export interface OpaqueTokenContext {
  readonly options: ResolvedIntrospection;
  /**
   * The resource server's client, for discovery and, unless `options.mtlsFetch` presents a
   * certificate instead, for introspection.
   */
  readonly client: IdpClient;
  readonly resolver: EndpointResolver;
  /** For a client of `options.mtlsFetch` and the check of an aliased endpoint. */
  readonly maxResponseBytes: number;
  readonly allowInsecureHttp: boolean;
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
   * `audience`, bound to the same DPoP key as the JWT's `cnf.jkt` (or to none), and to the same
   * client certificate as its `cnf["x5t#S256"]` (or to none).
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
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- the answer comes from the network
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
  const inFlight = createSingleFlight<string, AccessTokenClaims>();
  const nowSeconds = (): number => now().getTime() / 1000;
  const client =
    options.mtlsFetch === undefined
      ? context.client
      : createIdpClient(options.mtlsFetch, { maxResponseBytes: context.maxResponseBytes });
  const secretCredentials =
    options.clientSecret === undefined
      ? undefined
      : basicCredentials(options.clientId, options.clientSecret);

  /**
   * The introspection endpoint: the one configured, else the published one, or over mutual TLS
   * its `mtls_endpoint_aliases` entry where there is one (RFC 8705 §5).
   */
  async function endpoint(): Promise<string> {
    if (!options.mtls || options.endpoint !== undefined) {
      return context.resolver.resolve('introspection_endpoint');
    }
    const metadata = mtlsEndpointMetadata(await context.resolver.metadata());
    return publishedEndpoint(metadata, 'introspection_endpoint', context.allowInsecureHttp);
  }

  function remember(key: string, claims: AccessTokenClaims, askedAt: number): void {
    const until = Math.min(
      askedAt + options.cacheMaxSeconds * 1000,
      (claims.exp - context.clockToleranceSeconds) * 1000,
    );
    if (until <= askedAt) return;
    cache.delete(key);
    if (cache.size >= options.cacheMaxEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, { claims, until });
  }

  async function ask(token: string, key: string): Promise<AccessTokenClaims> {
    const askedAt = now().getTime();
    let answer: IntrospectionResult;
    try {
      const url = await endpoint();
      answer = await requestIntrospection({
        client,
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
      const cause = scrubCredentials(failure, [token, options.clientSecret, secretCredentials]);
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
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- the answer comes from the network; only `true` means active
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
    return inFlight.run(key, () => ask(token, key));
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
    checkSameCertificateBinding(claims, answer);
  }

  return { introspects, confirmsJwts: options.jwt === 'always', verify, confirmActive };
}
