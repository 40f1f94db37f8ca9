/**
 * The `introspection` option of a resource server (RFC 7662): its type, and its check at
 * factory time.
 */
import {
  resolveCallerCredentials,
  type TokenEndpointClientAuth,
} from '../introspection/caller-options.js';
import type { TlsClientOptions } from '../transport/tls-options.js';
import {
  optionalPositiveNumber,
  optionKeys,
  rejectUnknownOptions,
  requireString,
} from '../shared/options.js';
import { requireHttpUrl } from '../shared/url.js';

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
  /**
   * The resource server's client secret, for `client_secret_basic` and `client_secret_post`;
   * refused with the TLS methods. Never appears in an error, event or log.
   */
  clientSecret?: string | undefined;
  /**
   * How the resource server authenticates (RFC 6749 §2.3.1, RFC 8705 §2):
   * `'client_secret_basic'` (default), `'client_secret_post'`, or over mutual TLS with
   * `'tls_client_auth'` or `'self_signed_tls_client_auth'`. With a TLS method, introspection
   * requests present the certificate of `tls` (or go through the server's `fetch`, which must
   * then present one), name the client by `client_id` only, and go to the discovery document's
   * `mtls_endpoint_aliases.introspection_endpoint` where it has one (RFC 8705 §5); discovery and
   * key sets are fetched as before.
   */
  clientAuth?: TokenEndpointClientAuth | undefined;
  /**
   * The resource server's client certificate and key (PEM) for the TLS methods, presented on
   * introspection requests only (Node, with the optional peer `undici`). Leave it out when the
   * server's `fetch` presents a certificate itself (Bun, Deno, Workers' mTLS bindings).
   *
   * @see https://www.rfc-editor.org/rfc/rfc8705#section-2
   */
  tls?: TlsClientOptions | undefined;
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
   * passes the same checks and names the same DPoP key (`cnf.jkt`) and client certificate
   * (`cnf["x5t#S256"]`) as the JWT, or none when the JWT has none (else reason `dpop` or
   * `certificate`); only the JWT's own claims are returned. For issuers that can introspect their
   * JWTs, where revocation must bite within `cacheMaxSeconds`.
   */
  jwt?: 'never' | 'always' | undefined;
}

/** Every option of {@link ResourceServerIntrospectionOptions}; the compiler keeps the list complete. */
const INTROSPECTION_OPTION_KEYS = optionKeys<ResourceServerIntrospectionOptions>()([
  'clientId',
  'clientSecret',
  'clientAuth',
  'tls',
  'introspectionEndpoint',
  'cacheMaxSeconds',
  'cacheMaxEntries',
  'jwt',
]);

function isJwtIntrospection(value: unknown): value is 'never' | 'always' {
  return value === 'never' || value === 'always';
}

/**
 * Checks the `introspection` option; `undefined` when it is not given. `fetchGiven`: whether
 * the resource server has a `fetch` of the caller's, which may present the certificate.
 */
export function resolveIntrospectionOptions(
  value: unknown,
  where: string,
  allowInsecureHttp: boolean,
  fetchGiven = false,
) {
  if (value === undefined) return undefined;
  rejectUnknownOptions(value, INTROSPECTION_OPTION_KEYS, where, 'introspection');
  const o = value as Partial<Record<keyof ResourceServerIntrospectionOptions, unknown>>;
  const clientId = requireString(o.clientId, 'introspection.clientId', where);
  const jwt = o.jwt ?? 'never';
  if (!isJwtIntrospection(jwt)) {
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
  const endpoint =
    o.introspectionEndpoint === undefined
      ? undefined
      : requireHttpUrl(o.introspectionEndpoint, 'introspection.introspectionEndpoint', where, {
          allowInsecureHttp,
        });
  const cacheMaxSeconds = optionalPositiveNumber(
    o.cacheMaxSeconds,
    'introspection.cacheMaxSeconds',
    where,
    60,
    { allowZero: true },
  );
  // Last: the `fetch` made for `tls` is the only thing here that holds resources.
  const { clientAuth, clientSecret, mtls, mtlsFetch } = resolveCallerCredentials(
    { clientAuth: o.clientAuth, clientSecret: o.clientSecret, tls: o.tls, fetchGiven },
    where,
    { prefix: 'introspection.', replacesFetch: false },
  );
  return Object.freeze({
    clientId,
    clientSecret,
    clientAuth,
    /** Mutual TLS client authentication: the endpoint comes from `mtls_endpoint_aliases`. */
    mtls,
    /** The `fetch` made for `tls`, for introspection requests only. */
    mtlsFetch,
    endpoint,
    cacheMaxSeconds,
    cacheMaxEntries,
    jwt,
  });
}

/** The introspection options, checked and with defaults filled in. */
export type ResolvedIntrospection = NonNullable<ReturnType<typeof resolveIntrospectionOptions>>;
