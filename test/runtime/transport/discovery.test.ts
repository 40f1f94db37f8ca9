import { describe, expect, it } from 'vitest';
import {
  createEndpointResolver,
  oauthMetadataUrl,
  openIdConfigurationUrl,
} from '../../../src/runtime/transport/discovery.js';
import { createIdpClient } from '../../../src/runtime/transport/idp-client.js';
import { NetworkError, OAuthError, ProtocolError } from '../../../src/runtime/errors.js';
import { fakeFetch, json } from '../fake-fetch.js';

const issuer = 'https://idp.example.test';
const metadata = { issuer, token_endpoint: `${issuer}/oauth/token`, jwks_uri: `${issuer}/keys` };

function resolver(fetch: ReturnType<typeof fakeFetch>, overrides = {}) {
  return createEndpointResolver({ client: createIdpClient(fetch), issuer, overrides, timeoutMs: 1000 });
}

describe('discovery URLs', () => {
  it('inserts the RFC 8414 well-known segment before the issuer path', () => {
    expect(oauthMetadataUrl('https://idp.example/tenant/a')).toBe('https://idp.example/.well-known/oauth-authorization-server/tenant/a');
    expect(oauthMetadataUrl('https://idp.example')).toBe('https://idp.example/.well-known/oauth-authorization-server');
  });

  it('appends the OpenID well-known segment to the issuer', () => {
    expect(openIdConfigurationUrl('https://idp.example/tenant/')).toBe('https://idp.example/tenant/.well-known/openid-configuration');
  });
});

describe('endpoint resolution', () => {
  it('discovers once and serves later calls from the cache', async () => {
    const fetch = fakeFetch(() => json(metadata));
    const endpoints = resolver(fetch);
    expect(await endpoints.resolve('token_endpoint')).toBe(metadata.token_endpoint);
    expect(await endpoints.resolve('jwks_uri')).toBe(metadata.jwks_uri);
    expect(fetch.seen.map((r) => r.url)).toEqual([`${issuer}/.well-known/oauth-authorization-server`]);
  });

  it('falls back to the OpenID document when the RFC 8414 one is missing', async () => {
    const fetch = fakeFetch((r) => (r.url.includes('oauth-authorization-server') ? json({ error: 'not_found' }, 404) : json(metadata)));
    expect(await resolver(fetch).resolve('token_endpoint')).toBe(metadata.token_endpoint);
    expect(fetch.seen[1]?.url).toBe(`${issuer}/.well-known/openid-configuration`);
  });

  it('keeps unknown metadata members', async () => {
    const fetch = fakeFetch(() => json({ ...metadata, vendor_feature: true }));
    expect(await resolver(fetch).metadata()).toHaveProperty('vendor_feature', true);
  });

  it('rejects a document for another issuer (mix-up defence)', async () => {
    const fetch = fakeFetch(() => json({ ...metadata, issuer: 'https://evil.example.test' }));
    await expect(resolver(fetch).resolve('token_endpoint')).rejects.toBeInstanceOf(ProtocolError);
  });

  it('skips discovery for an endpoint given explicitly', async () => {
    const fetch = fakeFetch(() => json(metadata));
    expect(await resolver(fetch, { token_endpoint: 'https://other.example/token' }).resolve('token_endpoint')).toBe(
      'https://other.example/token',
    );
    expect(fetch.seen).toHaveLength(0);
  });

  it('says which member is missing', async () => {
    const fetch = fakeFetch(() => json({ issuer }));
    await expect(resolver(fetch).resolve('introspection_endpoint')).rejects.toThrow(/introspection_endpoint/);
  });

  it('does not remember a failed discovery', async () => {
    const fetch = fakeFetch((_, i) => (i === 0 ? new Response('down', { status: 500 }) : json(metadata)));
    const endpoints = resolver(fetch);
    await expect(endpoints.resolve('token_endpoint')).rejects.toBeInstanceOf(OAuthError);
    await expect(endpoints.resolve('token_endpoint')).resolves.toBe(metadata.token_endpoint);
  });

  it('turns a timeout into NetworkError that names the limit', async () => {
    // Like a server that accepts the connection and never answers: only the signal ends it.
    // `inFlight` holds each request as a real fetch holds its socket: a Request follows the
    // caller's signal through a weak reference, so one that nothing holds may be collected
    // before the abort reaches it, and the call would then hang.
    const inFlight = new Set<Request>();
    const never = (request: Request) =>
      new Promise<Response>((_, reject) => {
        inFlight.add(request);
        request.signal.addEventListener('abort', () => reject(request.signal.reason));
      });
    const endpoints = createEndpointResolver({ client: createIdpClient(never), issuer, overrides: {}, timeoutMs: 50 });
    const error = await endpoints.resolve('token_endpoint').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/within 50 ms/);
  });
});
