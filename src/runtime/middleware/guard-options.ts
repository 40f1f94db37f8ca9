import { validateAudience, validateScopes } from '../server/verify-options.js';
import type { ResourceServer } from '../server/resource-server.js';
import { applyAliases, givenName, rejectUnknownAliasedOptions } from '../shared/aliases.js';
import { OptionError, optionKeys } from '../shared/options.js';
import { parseHttpUrl } from '../shared/url.js';

/**
 * Options of `requireServiceAuth` in `s2s-auth/hono`, `s2s-auth/express` and
 * `s2s-auth/fastify`. Only `resourceServer` is required.
 *
 * The URL a DPoP proof's `htu` is compared with is rebuilt from the request: the scheme of the
 * connection, the `Host` header and the path. Behind a reverse proxy or load balancer that is
 * not the URL the client called, so say what it is: `publicOrigin` pins it, or `trustProxy`
 * reads it from `X-Forwarded-Proto` and `X-Forwarded-Host`. Pinning is the safer choice: it
 * also keeps a proof made for another host from being accepted here.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @example
 * ```ts
 * const options: ServiceAuthOptions = {
 *   resourceServer: createResourceServer({ issuer, audience: 'https://api.example.com' }),
 *   requiredScopes: ['orders:read'],
 *   publicOrigin: 'https://api.example.com', // the origin clients call, in front of the proxy
 * };
 * ```
 */
export interface ServiceAuthOptions {
  /**
   * The resource server that verifies each request, made once at start-up with
   * `createResourceServer` and shared by every route (it caches the issuer's keys).
   */
  resourceServer: Pick<ResourceServer, 'verifyRequest'>;
  /**
   * Scopes the token must grant on the routes behind this middleware (space-separated string
   * or array), read from the claims the resource server's `scopeClaims` names. Given, they
   * replace the resource server's `requiredScopes` for these routes; left out, the resource
   * server's own apply. A token without one of them is answered 403 `insufficient_scope`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
   */
  requiredScopes?: string | readonly string[] | undefined;
  /** Another name for `requiredScopes`; give one or the other. */
  scopes?: string | readonly string[] | undefined;
  /** Expected `aud` on these routes; replaces the resource server's `audience` when given. */
  audience?: string | readonly string[] | undefined;
  /**
   * The origin clients call, such as `https://api.example.com` (scheme, host and port only):
   * DPoP proofs are checked against it instead of the scheme and `Host` of the request that
   * reached this process. Takes precedence over `trustProxy`.
   */
  publicOrigin?: string | undefined;
  /**
   * Read the public scheme and host from `X-Forwarded-Proto` and `X-Forwarded-Host` (the first
   * value of each, falling back to the connection's scheme and `Host` for a header that is
   * absent). Only enable it when a proxy you run sets these headers and strips any the client
   * sent. The framework's own proxy settings are not consulted. Default `false`.
   */
  trustProxy?: boolean | undefined;
  /**
   * `'client-cert'`: read the client certificate from the RFC 9440 `Client-Cert` header instead
   * of the TLS socket, for a service behind a proxy that terminates mutual TLS. Only set it when
   * a proxy you run strips any `Client-Cert` header the client sent and sets its own: the header
   * is otherwise the client's word, and anyone could present any certificate. A header that is
   * not one DER certificate is answered 401 `invalid_token` (reason `certificate`). Default:
   * the header is ignored and the certificate is the TLS socket's.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9440#section-2.2
   * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
   */
  clientCertificateHeader?: 'client-cert' | undefined;
}

/** Every option of {@link ServiceAuthOptions}; the compiler keeps the list complete. */
const SERVICE_AUTH_OPTION_KEYS = optionKeys<ServiceAuthOptions>()([
  'resourceServer',
  'requiredScopes',
  'scopes',
  'audience',
  'publicOrigin',
  'trustProxy',
  'clientCertificateHeader',
]);

/** The options, checked once when the middleware is made. */
export interface ResolvedServiceAuthOptions {
  resourceServer: Pick<ResourceServer, 'verifyRequest'>;
  /** What each call passes to `verifyRequest`; `undefined` keeps the resource server's defaults. */
  verifyOptions: { requiredScopes?: readonly string[]; audience?: readonly string[] } | undefined;
  /** `https://host[:port]`, normalised, or `undefined`. */
  publicOrigin: string | undefined;
  trustProxy: boolean;
  /** Where the client certificate comes from: this header, or the socket when `undefined`. */
  clientCertificateHeader: 'client-cert' | undefined;
}

const WHERE = 'requireServiceAuth';

/** Checks a `clientCertificateHeader` option: `'client-cert'` (RFC 9440) or not given. */
export function validateClientCertificateHeader(
  value: unknown,
  where: string,
): 'client-cert' | undefined {
  if (value === undefined || value === 'client-cert') return value;
  throw new OptionError(
    `${where}: \`clientCertificateHeader\` must be 'client-cert' (RFC 9440), found ${typeof value === 'string' ? JSON.stringify(value.slice(0, 32)) : `a ${typeof value}`}`,
    'ERR_INVALID_OPTION',
    'clientCertificateHeader',
  );
}

/** The other names the options may be given under. */
const SERVICE_AUTH_ALIASES = { scopes: 'requiredScopes' } as const;

/** A `publicOrigin` option: an http(s) origin, normalised; `undefined` when not given. */
export function validatePublicOrigin(value: unknown, where = WHERE): string | undefined {
  if (value === undefined) return undefined;
  const problem = `${where}: \`publicOrigin\` must be an http(s) origin such as 'https://api.example.com' (no path, query or credentials)`;
  if (typeof value !== 'string') throw new TypeError(problem);
  const url = parseHttpUrl(value);
  if (
    url?.username !== '' ||
    url.password !== '' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== '' ||
    // `new URL` drops a lone '?' or '#'; a value carrying one was meant as more than an origin.
    /[?#]/.test(value)
  ) {
    throw new TypeError(problem);
  }
  return url.origin;
}

/** Checks the options when the middleware is made, so a misconfiguration fails at start-up. */
export function resolveServiceAuthOptions(options: unknown): ResolvedServiceAuthOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${WHERE}: options must be an object with at least \`resourceServer\``);
  }
  rejectUnknownAliasedOptions(options, SERVICE_AUTH_OPTION_KEYS, SERVICE_AUTH_ALIASES, WHERE);
  const o = applyAliases(options, SERVICE_AUTH_ALIASES, WHERE) as Partial<
    Record<keyof ServiceAuthOptions, unknown>
  >;
  const server = o.resourceServer as { verifyRequest?: unknown } | undefined;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers in plain JavaScript can pass anything
  if (typeof server !== 'object' || server === null || typeof server.verifyRequest !== 'function') {
    throw new TypeError(
      `${WHERE}: \`resourceServer\` must be a resource server made with createResourceServer`,
    );
  }
  if (o.trustProxy !== undefined && typeof o.trustProxy !== 'boolean') {
    throw new TypeError(`${WHERE}: \`trustProxy\` must be a boolean`);
  }
  const clientCertificateHeader = validateClientCertificateHeader(o.clientCertificateHeader, WHERE);
  const requiredScopes = validateScopes(
    o.requiredScopes,
    WHERE,
    givenName(options, 'requiredScopes', SERVICE_AUTH_ALIASES),
  );
  const audience = validateAudience(o.audience, WHERE);
  const verifyOptions =
    requiredScopes === undefined && audience === undefined
      ? undefined
      : {
          ...(requiredScopes === undefined ? {} : { requiredScopes }),
          ...(audience === undefined ? {} : { audience }),
        };
  return {
    resourceServer: server as Pick<ResourceServer, 'verifyRequest'>,
    verifyOptions,
    publicOrigin: validatePublicOrigin(o.publicOrigin),
    trustProxy: o.trustProxy === true,
    clientCertificateHeader,
  };
}
