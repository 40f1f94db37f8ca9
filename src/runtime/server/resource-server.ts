import type { TokenError } from '../token-error.js';
import { sha256Base64url } from '../crypto/backend.js';
import { createEndpointResolver } from '../transport/discovery.js';
import { certificateDer, checkCertificateBinding } from './certificate-binding.js';
import { createIdpClient } from '../transport/idp-client.js';
import { createProofKeyCache, verifyDpopProof, type DpopRules } from './dpop-verify.js';
import { normaliseHtu } from './htu.js';
import { createJwksCache } from './jwks-cache.js';
import { createJwksFetcher } from './jwks-fetch.js';
import type { ResourceServerIntrospectionOptions } from './introspection-options.js';
import { createOpaqueTokenVerifier } from './opaque-tokens.js';
import {
  copyClaims,
  recheckClaims,
  verifyAccessToken,
  type AccessTokenClaims,
  type AccessTokenRules,
} from './jwt-verify.js';
import { resolveOptions } from './resolve-options.js';
import type { ResourceServerOptions } from './resource-server-options.js';
import { reject, toTokenError, type ChallengeContext } from './rejection.js';
import { readCredentials, readHeader, readRequest, SEVERAL, type RequestLike } from './request.js';
import { checkScopes } from './token-policy.js';
import { VERIFIED_TOKEN_CACHE_SIZE, VerifiedTokenCache } from './verified-tokens.js';
import { resolveCallOptions, type CallRequirements, type VerifyOptions } from './verify-options.js';
import type { ChallengeScheme } from './www-authenticate.js';

export type { VerifyOptions } from './verify-options.js';

/**
 * Verifies access tokens and DPoP proofs for one issuer (or a list). Every rejection is a
 * {@link TokenError} with a `reason`, a `status` (401; 403 for missing scopes; 400 for a
 * request with several credentials) and a `wwwAuthenticate` value to send back; nothing else is
 * ever thrown for any token or request. A fault that is no verdict on the token (an error
 * thrown by an injected `now`, a request's `headers.get`, or a bug) comes out as itself.
 *
 * When the issuer's key set cannot be fetched and no cached one is young enough to use, tokens
 * cannot be checked: the `TokenError` has `reason` `jwks`, status 503 and `retryAfter` (the
 * seconds until the key set is tried again), and its `cause` is the `NetworkError`,
 * `OAuthError` or `ProtocolError` of the last attempt. Answer it with 503 and `Retry-After`,
 * not 401: a client told `invalid_token` would fetch a new token that fares no better. The
 * same holds, with reason `introspection`, for an opaque token when the authorization server
 * cannot be asked about it (see {@link ResourceServerIntrospectionOptions}).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 * @example
 * ```ts
 * const server = createResourceServer({ issuer, audience: 'https://api.example.com' });
 * try {
 *   const claims = await server.verifyRequest(request, { requiredScopes: ['orders:read'] });
 * } catch (error) {
 *   if (!(error instanceof TokenError)) throw error;
 *   const headers = new Headers();
 *   if (error.status === 503) headers.set('Retry-After', String(error.retryAfter));
 *   else headers.set('WWW-Authenticate', error.wwwAuthenticate);
 *   if (error.dpopNonce) headers.set('DPoP-Nonce', error.dpopNonce);
 *   return new Response(null, { status: error.status, headers });
 * }
 * ```
 */
export interface ResourceServer {
  /**
   * Verifies a JWT access token (RFC 9068 §4): the strict JWS form, an allowed asymmetric
   * `alg`, `typ`, the signature by the issuer's key named by `kid` (one rate-limited refetch of
   * the key set on an unknown `kid`), `iss`, `aud`, `exp`, `nbf`, `iat` and the required scopes.
   * It does not check proof of possession: use {@link ResourceServer.verifyRequest} for
   * requests that may carry DPoP-bound tokens.
   *
   * With the `introspection` option, a token that is not a compact JWS is introspected
   * (RFC 7662) instead, and its answer checked the same way (reason `inactive` when it is not
   * active).
   *
   * Rejects with a `TokenError`; with a `TypeError` only for invalid per-call options.
   */
  verifyToken(token: string, options?: VerifyOptions): Promise<AccessTokenClaims>;
  /**
   * Verifies the credentials of a request: `Authorization: Bearer <token>` or
   * `Authorization: DPoP <token>` plus its `DPoP` proof (RFC 9449 §4.3, §7.1). A token bound to
   * a DPoP key (`cnf.jkt`) is only accepted with the DPoP scheme and a valid proof for this
   * method and URL; a DPoP-scheme token must be bound. A request with more than one
   * `Authorization` credential is refused with 400 `invalid_request`, one with more than one
   * `DPoP` proof with 401 `invalid_dpop_proof`. An opaque token (with the `introspection`
   * option) is bound when its introspection answer has `cnf.jkt`, and held to the same rules.
   *
   * A token bound to a client certificate (`cnf["x5t#S256"]`, RFC 8705 §3) is only accepted
   * with that certificate, given as the `clientCertificate` option or carried by the request
   * (as `requestFromNode` and the middleware read it from the TLS socket); otherwise it is
   * refused with reason `certificate`. This holds for `verifyToken` and opaque tokens too.
   *
   * A DPoP request verified once (the same headers object, with the same token and proof) may
   * be asked about again, say with other scopes: the time, audience and scopes are checked
   * again, the token and proof are not, so the proof is not taken for a replay of itself.
   *
   * Rejects with a `TokenError`; with a `TypeError` only for invalid per-call options.
   */
  verifyRequest(
    request: Request | RequestLike,
    options?: VerifyOptions,
  ): Promise<AccessTokenClaims>;
}

/** A DPoP request that was verified, with what it carried and the claims it proved. */
interface VerifiedRequest {
  readonly token: string;
  /** The `DPoP` header as it was read. */
  readonly proof: string;
  readonly method: string;
  readonly url: string;
  /** A private copy: the caller may change the claims it was handed. */
  readonly claims: AccessTokenClaims;
}

/**
 * Creates a resource server: verifies JWT access tokens (RFC 9068) from one issuer (or the
 * issuers listed, sharing one key set), with the defences of RFC 8725, and DPoP-bound requests
 * (RFC 9449). Keys come from the issuer's JWKS, discovered and cached per instance. With a
 * `profile`, an IdP's own access tokens verify and its other JWTs (ID, logout, refresh,
 * userinfo) do not. With `introspection`, opaque tokens too, by asking the issuer (RFC 7662).
 * Invalid options throw a `TypeError` here.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3
 * @see https://www.rfc-editor.org/rfc/rfc7662
 * @example
 * ```ts
 * import { createResourceServer, TokenError } from 's2s-auth/server';
 *
 * const server = createResourceServer({
 *   issuer: 'https://idp.example.com',
 *   audience: 'https://orders.example.com',
 *   requiredScopes: 'orders:read',
 * });
 * const claims = await server.verifyRequest(request);
 * console.log(`call from ${claims.client_id}`);
 *
 * // An IdP whose access tokens are typed JWT, like its ID tokens:
 * const keycloak = createResourceServer({
 *   profile: 'keycloak',
 *   issuer: 'https://sso.example.com/realms/acme',
 *   audience: 'orders-api',
 * });
 * ```
 */
export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  const resolved = resolveOptions(options);
  const client = createIdpClient(resolved.fetch, { maxResponseBytes: resolved.maxResponseBytes });
  const resolver = createEndpointResolver({
    client,
    issuer: resolved.issuer,
    overrides: {
      jwks_uri: resolved.jwksUri,
      introspection_endpoint: resolved.introspection?.endpoint,
    },
    timeoutMs: resolved.timeoutMs,
    allowInsecureHttp: resolved.allowInsecureHttp,
  });
  const jwks = createJwksCache({
    fetchKeySet: createJwksFetcher({ client, resolver, timeoutMs: resolved.timeoutMs }),
    now: resolved.now,
    maxAgeSeconds: resolved.jwksCacheMaxAgeSeconds,
    cooldownSeconds: resolved.jwksCooldownSeconds,
    maxStaleSeconds: resolved.jwksMaxStaleSeconds,
    ...(resolved.emit
      ? { onFetch: (outcome) => resolved.emit?.({ type: 'jwks_fetched', ...outcome }) }
      : {}),
  });
  const tokenRules: AccessTokenRules = {
    issuers: resolved.issuers,
    algorithms: resolved.algorithms,
    policy: resolved.policy,
    clockToleranceSeconds: resolved.clockToleranceSeconds,
    maxTokenLength: resolved.maxTokenLength,
    jwks,
    verified: new VerifiedTokenCache(VERIFIED_TOKEN_CACHE_SIZE),
  };
  const opaque =
    resolved.introspection &&
    createOpaqueTokenVerifier({
      options: resolved.introspection,
      client,
      resolver,
      maxResponseBytes: resolved.maxResponseBytes,
      allowInsecureHttp: resolved.allowInsecureHttp,
      issuers: resolved.issuers,
      answeringIssuer: resolved.issuer,
      clockToleranceSeconds: resolved.clockToleranceSeconds,
      maxTokenLength: resolved.maxTokenLength,
      timeoutMs: resolved.timeoutMs,
      now: resolved.now,
      emit: resolved.emit,
    });

  /**
   * An opaque token by introspection, a JWT locally (and by introspection too, if so set), then
   * held to its certificate binding, if it has one (RFC 8705 §3).
   */
  async function verifyAnyToken(token: string, call: CallRequirements): Promise<AccessTokenClaims> {
    const { audience } = call;
    let claims: AccessTokenClaims;
    if (opaque?.introspects(token)) {
      claims = await opaque.verify(token, audience);
    } else {
      claims = await verifyAccessToken(token, tokenRules, audience, nowSeconds);
      if (opaque?.confirmsJwts) await opaque.confirmActive(token, claims, audience);
    }
    await checkCertificateBinding(claims, call.clientCertificate);
    return claims;
  }

  const dpopRules: DpopRules = {
    algorithms: resolved.dpopAlgorithms,
    iatWindowSeconds: resolved.iatWindowSeconds,
    clockToleranceSeconds: resolved.clockToleranceSeconds,
    replayStore: resolved.replayStore,
    nonce: resolved.nonce,
    keys: createProofKeyCache(),
  };
  /**
   * DPoP requests verified so far. A second check of the same request (a global guard, then a
   * per-route one) is not a replay: it re-checks only what may differ between the two calls
   * (time, audience, scopes), and the proof is not checked against the replay store again.
   * Keyed by the headers object, which belongs to one incoming request; the token, proof,
   * method and URL must be the same too.
   */
  const verifiedRequests = new WeakMap<object, VerifiedRequest>();
  const dpopAlgs = [...resolved.dpopAlgorithms].join(' ');
  const offered: readonly ChallengeScheme[] = resolved.dpopRequired ? ['DPoP'] : ['Bearer', 'DPoP'];
  const nowSeconds = (): number => resolved.now().getTime() / 1000;

  /** The `ath` of a token: kept with the verified token, so a DPoP caller's token is hashed once. */
  function tokenHash(token: string): string | Promise<string> {
    const known = tokenRules.verified?.get(token);
    if (known?.ath !== undefined) return known.ath;
    const hash = sha256Base64url(token);
    if (known === undefined) return hash;
    if (typeof hash === 'string') return (known.ath = hash);
    return hash.then((value) => (known.ath = value));
  }

  const bearerContext: ChallengeContext = {
    scheme: 'Bearer',
    offered: ['Bearer'],
    realm: resolved.realm,
    dpopAlgs,
  };
  const defaults: CallRequirements = {
    audience: resolved.audience,
    requiredScopes: resolved.requiredScopes,
  };

  const { scopeClaims } = resolved.policy;

  /** Reports a refusal to `onEvent` on its way out. */
  function refused(error: TokenError): TokenError {
    resolved.emit?.({
      type: 'verification_failed',
      reason: error.reason,
      status: error.status,
      ...(error.claim === undefined ? {} : { claim: error.claim }),
      ...(error.detail === undefined ? {} : { detail: error.detail }),
    });
    return error;
  }

  async function verifyToken(token: string, options?: VerifyOptions): Promise<AccessTokenClaims> {
    const call = resolveCallOptions(options, 'verifyToken', defaults);
    try {
      const claims = await verifyAnyToken(token, call);
      checkScopes(claims, call.requiredScopes, scopeClaims);
      return claims;
    } catch (failure) {
      throw refused(toTokenError(failure, bearerContext));
    }
  }

  async function verifyRequest(
    request: Request | RequestLike,
    options?: VerifyOptions,
  ): Promise<AccessTokenClaims> {
    let call = resolveCallOptions(options, 'verifyRequest', defaults);
    const context: ChallengeContext = {
      scheme: undefined,
      offered,
      realm: resolved.realm,
      dpopAlgs,
    };
    try {
      const { method, url, headers, clientCertificate } = readRequest(request);
      if (call.clientCertificate === undefined && clientCertificate !== undefined) {
        call = { ...call, clientCertificate: certificateDer(clientCertificate, 'verifyRequest') };
      }
      const { scheme, token } = readCredentials(headers, resolved.maxTokenLength);
      context.scheme = scheme;
      if (scheme === 'Bearer' && resolved.dpopRequired) {
        reject('dpop', 'this resource requires DPoP-bound tokens', { scheme: 'DPoP' });
      }
      const earlier = scheme === 'DPoP' ? verifiedRequests.get(headers) : undefined;
      if (
        earlier?.token === token &&
        earlier.method === method &&
        earlier.url === url &&
        earlier.proof === readHeader(headers, 'dpop')
      ) {
        recheckClaims(earlier.claims, tokenRules, call.audience, nowSeconds);
        // The certificate is the call's, not the request's: a second call without it (or with
        // another) must not ride on the first one's check.
        await checkCertificateBinding(earlier.claims, call.clientCertificate);
        checkScopes(earlier.claims, call.requiredScopes, scopeClaims);
        return copyClaims(earlier.claims);
      }
      const claims = await verifyAnyToken(token, call);
      const jkt = claims.cnf?.jkt;
      if (scheme === 'Bearer') {
        if (jkt !== undefined) {
          reject('dpop', 'the token is bound to a DPoP key and must be sent with the DPoP scheme', {
            scheme: 'DPoP',
          });
        }
      } else {
        if (jkt === undefined) reject('dpop', 'the token is not bound to a DPoP key');
        const proof = readHeader(headers, 'dpop');
        if (proof === undefined) {
          reject('dpop', 'the request carries no DPoP proof', { error: 'invalid_dpop_proof' });
        }
        // Several DPoP headers, or one folded from several (proofs never contain commas).
        if (proof === SEVERAL || proof.includes(',')) {
          reject('dpop', 'the request carries more than one DPoP proof', {
            error: 'invalid_dpop_proof',
          });
        }
        const htu = normaliseHtu(url);
        if (htu === undefined) {
          reject('dpop', 'the request URL is not an absolute http(s) URL', {
            error: 'invalid_dpop_proof',
          });
        }
        await verifyDpopProof(
          { proof: proof.trim(), method, htu, tokenHash: () => tokenHash(token), jkt, nowSeconds },
          dpopRules,
        );
        verifiedRequests.set(headers, { token, proof, method, url, claims: copyClaims(claims) });
      }
      checkScopes(claims, call.requiredScopes, scopeClaims);
      return claims;
    } catch (failure) {
      throw refused(toTokenError(failure, context));
    }
  }

  return { verifyToken, verifyRequest };
}
