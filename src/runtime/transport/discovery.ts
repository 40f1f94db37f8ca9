import type { components } from '../../generated/openapi.js';
import * as schemas from '../../generated/schemas.js';
import {
  DiscoveryError,
  ProtocolError,
  type DiscoveryAttempt,
  type ProtocolErrorCode,
} from '../errors.js';
import { redact } from '../shared/redact.js';
import { singleFlight } from '../shared/single-flight.js';
import { isRefusedInsecureHttp, parseHttpUrl } from '../shared/url.js';
import type { Schema } from '../shared/validate.js';
import { exchange, type IdpCall, type IdpClient } from './idp-client.js';
import { parseBody, toOAuthError } from './idp-answer.js';

/** Endpoints the SDK resolves, named by their RFC 8414 metadata member. */
export type EndpointName =
  'token_endpoint' | 'jwks_uri' | 'introspection_endpoint' | 'revocation_endpoint';

export type AuthorizationServerMetadata = components['schemas']['AuthorizationServerMetadata'];

export interface EndpointResolverOptions {
  client: IdpClient;
  issuer: string | undefined;
  /** Explicit endpoints: each one given skips discovery for that endpoint. */
  overrides: Partial<Record<EndpointName, string | undefined>>;
  timeoutMs: number;
  /**
   * Accept plain-HTTP endpoints from the discovery document on hosts that are not loopback.
   * Default `false`.
   */
  allowInsecureHttp?: boolean;
  /**
   * The client authenticates with mutual TLS: discovered endpoints come from
   * `mtls_endpoint_aliases` where the document has them (RFC 8705 §5), explicit overrides
   * still win. Default `false`.
   */
  mtls?: boolean;
}

/** Resolves endpoint URLs, discovering them at most once per instance. */
export interface EndpointResolver {
  resolve(name: EndpointName): Promise<string>;
  /** The discovery document (fetched on first use). */
  metadata(): Promise<AuthorizationServerMetadata>;
}

/**
 * The RFC 8414 §3.1 metadata URL: the well-known segment goes between the host and the
 * issuer's path (`https://idp/tenant` → `https://idp/.well-known/oauth-authorization-server/tenant`).
 */
export function oauthMetadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
}

/** The OpenID Connect Discovery 1.0 §4 URL: the well-known segment is appended to the issuer. */
export function openIdConfigurationUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

const endpointLabels: Record<EndpointName, string> = {
  token_endpoint: 'token endpoint',
  jwks_uri: 'JWKS endpoint',
  introspection_endpoint: 'introspection endpoint',
  revocation_endpoint: 'revocation endpoint',
};

export function endpointLabel(name: EndpointName): string {
  return endpointLabels[name];
}

/**
 * Discovery per RFC 8414, falling back to OpenID Connect Discovery when the server has no
 * RFC 8414 document (any 4xx); when neither URL has one, a {@link DiscoveryError} lists both
 * URLs and their statuses. The document's `issuer` must equal the configured one exactly
 * (RFC 8414 §3.3, no normalisation): this is what stops a mix-up between authorization servers.
 */
export async function discover(
  client: IdpClient,
  issuer: string,
  timeoutMs: number,
): Promise<AuthorizationServerMetadata> {
  const oauth: IdpCall = {
    client,
    url: oauthMetadataUrl(issuer),
    endpoint: 'metadata endpoint',
    timeoutMs,
  };
  let answer = await exchange(oauth, (middleware) =>
    client.GET('/.well-known/oauth-authorization-server', { parseAs: 'text', middleware }),
  );
  let call = oauth;
  let schema: Schema<AuthorizationServerMetadata> = schemas.AuthorizationServerMetadata;
  if (isClientError(answer.response.status)) {
    const tried: DiscoveryAttempt[] = [{ url: oauth.url, status: answer.response.status }];
    call = {
      ...oauth,
      url: openIdConfigurationUrl(issuer),
      endpoint: 'OpenID configuration endpoint',
    };
    answer = await exchange(call, (middleware) =>
      client.GET('/.well-known/openid-configuration', { parseAs: 'text', middleware }),
    );
    schema = schemas.OpenIdProviderMetadata;
    if (isClientError(answer.response.status)) {
      tried.push({ url: call.url, status: answer.response.status });
      throw new DiscoveryError(
        `no discovery document for issuer ${issuer}: tried ${tried
          .map(({ url, status }) => `${url} (${status})`)
          .join(' and ')}; is \`issuer\` the server's issuer identifier, exactly?`,
        tried,
      );
    }
  }
  if (!answer.response.ok) throw toOAuthError(answer, call);
  const metadata = parseBody(answer, schema, call);
  if (metadata.issuer !== issuer) {
    throw new ProtocolError(
      `the discovery document at ${call.url} is for issuer ${JSON.stringify(redact(metadata.issuer, [], 200))}, ` +
        `not the configured ${JSON.stringify(issuer)} (compared exactly, RFC 8414 §3.3)`,
      [
        {
          path: 'issuer',
          code: 'issuer_mismatch',
          message: 'issuer does not match the configured issuer',
        },
      ],
      'issuer_mismatch',
    );
  }
  return metadata;
}

const isClientError = (status: number) => status >= 400 && status < 500;

/**
 * The endpoint URL a discovery document publishes, checked before anything is sent to it: an
 * absolute `https:` URL, or `http:` to a loopback host, or to any host with `allowInsecureHttp`
 * (RFC 8414 §2 and RFC 6749 §3.1 require TLS). Checked per endpoint, when it is first needed, so
 * an odd member the caller never uses does not break it.
 */
export function publishedEndpoint(
  metadata: AuthorizationServerMetadata,
  name: EndpointName,
  allowInsecureHttp: boolean,
): string {
  const value = metadata[name];
  const refuse = (code: ProtocolErrorCode, problem: string) =>
    new ProtocolError(
      `the authorization server's discovery document ${problem}`,
      [{ path: name, code, message: problem }],
      code,
    );
  if (typeof value !== 'string') {
    throw refuse('missing_endpoint', `has no ${name}; configure the endpoint explicitly`);
  }
  const url = parseHttpUrl(value);
  if (!url || url.username || url.password) {
    throw refuse(
      'invalid_url',
      `publishes a ${name} that is not an http(s) URL without credentials`,
    );
  }
  if (isRefusedInsecureHttp(url, allowInsecureHttp)) {
    throw refuse(
      'insecure_url',
      `publishes a plain-HTTP ${name} to a host that is not loopback (${url.origin}); set \`allowInsecureHttp: true\` to allow it`,
    );
  }
  return value;
}

/** The endpoints a client doing mutual TLS sends to an alias of, when one is published. */
const aliasedEndpoints = [
  'token_endpoint',
  'introspection_endpoint',
  'revocation_endpoint',
] as const;

/**
 * The discovery document as a client doing mutual TLS must read it (RFC 8705 §5): its
 * `token_endpoint`, `introspection_endpoint` and `revocation_endpoint` replaced by those of
 * `mtls_endpoint_aliases`, where it has them. Endpoints without an alias, and every other member,
 * are kept. An alias member is copied whatever it holds, so the one check every published
 * endpoint gets (`publishedEndpoint`) also refuses a bad alias; `mtls_endpoint_aliases` that is
 * not an object is a `ProtocolError` (`schema`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-5
 */
export function mtlsEndpointMetadata(
  metadata: AuthorizationServerMetadata,
): AuthorizationServerMetadata {
  const aliases = (metadata as Record<string, unknown>).mtls_endpoint_aliases;
  if (aliases === undefined) return metadata;
  if (typeof aliases !== 'object' || aliases === null || Array.isArray(aliases)) {
    const problem = 'has an mtls_endpoint_aliases that is not an object';
    throw new ProtocolError(
      `the authorization server's discovery document ${problem}`,
      [{ path: 'mtls_endpoint_aliases', code: 'schema', message: problem }],
      'schema',
    );
  }
  const chosen: Record<string, unknown> = { ...metadata };
  for (const name of aliasedEndpoints) {
    const alias = (aliases as Record<string, unknown>)[name];
    if (alias !== undefined) chosen[name] = alias;
  }
  return chosen as AuthorizationServerMetadata;
}

export function createEndpointResolver(options: EndpointResolverOptions): EndpointResolver {
  const { issuer } = options;
  let cached: AuthorizationServerMetadata | undefined;
  // One discovery in flight per instance, shared by every caller (so no caller's abort signal
  // is tied to it); a failure is not remembered, so the next call retries.
  const discoverOnce =
    issuer === undefined
      ? undefined
      : singleFlight(async () => {
          cached = await discover(options.client, issuer, options.timeoutMs);
          return cached;
        });

  function metadata(): Promise<AuthorizationServerMetadata> {
    if (cached) return Promise.resolve(cached);
    if (discoverOnce === undefined) {
      return Promise.reject(new TypeError('an `issuer` is needed to discover endpoints'));
    }
    return discoverOnce();
  }

  let aliased: AuthorizationServerMetadata | undefined;
  async function endpointMetadata(): Promise<AuthorizationServerMetadata> {
    if (options.mtls !== true) return metadata();
    return (aliased ??= mtlsEndpointMetadata(await metadata()));
  }

  async function resolve(name: EndpointName): Promise<string> {
    const override = options.overrides[name];
    if (override !== undefined) return override;
    return publishedEndpoint(await endpointMetadata(), name, options.allowInsecureHttp ?? false);
  }

  return { resolve, metadata };
}
