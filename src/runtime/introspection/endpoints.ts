/**
 * Where the standalone `introspectToken` and `revokeToken` send their request: the endpoint
 * given, or the one the issuer's discovery document publishes. Discovery is the transport's
 * ({@link createEndpointResolver}); the resolvers are shared by every call with the same
 * `fetch` and issuer, so a discovery document is fetched once, not once per call.
 */
import type { FetchLike } from '../shared/options.js';
import {
  createEndpointResolver,
  mtlsEndpointMetadata,
  publishedEndpoint,
  type EndpointName,
  type EndpointResolver,
} from '../transport/discovery.js';
import type { IdpClient } from '../transport/idp-client.js';

/** Discovery, per fetch and issuer; a failed discovery is not remembered (the resolver's rule). */
const resolvers = new WeakMap<FetchLike, Map<string, EndpointResolver>>();
/** Issuers remembered per fetch; the oldest goes first. */
const MAX_ISSUERS_PER_FETCH = 32;

function resolverFor(
  fetch: FetchLike,
  client: IdpClient,
  issuer: string,
  timeoutMs: number,
): EndpointResolver {
  let byIssuer = resolvers.get(fetch);
  if (!byIssuer) resolvers.set(fetch, (byIssuer = new Map<string, EndpointResolver>()));
  const known = byIssuer.get(issuer);
  if (known) return known;
  const resolver = createEndpointResolver({ client, issuer, overrides: {}, timeoutMs });
  byIssuer.set(issuer, resolver);
  if (byIssuer.size > MAX_ISSUERS_PER_FETCH) {
    byIssuer.delete(byIssuer.keys().next().value!);
  }
  return resolver;
}

/** What {@link resolveEndpoint} needs of a caller's checked options. */
export interface EndpointSource {
  fetch: FetchLike;
  /** The endpoint option, when given: discovery is skipped. */
  endpoint: string | undefined;
  issuer: string | undefined;
  timeoutMs: number;
  allowInsecureHttp: boolean;
  /** Mutual TLS client authentication: the endpoint comes from `mtls_endpoint_aliases`. */
  mtls: boolean;
}

/**
 * The endpoint to send to: the one given, else the one the discovery document publishes (its
 * RFC 8705 §5 alias for a caller over mutual TLS), checked against this caller's own
 * `allowInsecureHttp` (the document is shared, the policy is not).
 */
export async function resolveEndpoint(
  source: EndpointSource,
  client: IdpClient,
  name: EndpointName,
): Promise<string> {
  if (source.endpoint !== undefined) return source.endpoint;
  if (source.issuer === undefined) {
    throw new TypeError('an `issuer` is needed to discover endpoints');
  }
  const resolver = resolverFor(source.fetch, client, source.issuer, source.timeoutMs);
  const metadata = await resolver.metadata();
  return publishedEndpoint(
    source.mtls ? mtlsEndpointMetadata(metadata) : metadata,
    name,
    source.allowInsecureHttp,
  );
}
