/**
 * The standalone introspectToken and revokeToken find their endpoint through the transport's
 * discovery, shared by every call with the same fetch and issuer.
 */
import { describe, expect, it } from 'vitest';
import { introspectToken, OAuthError, ProtocolError, revokeToken } from '../../../src/server.js';
import { fakeFetch, json, type SeenRequest } from '../fake-fetch.js';

const issuer = 'https://idp.example.test';
const credentials = { issuer, clientId: 'orders-api', clientSecret: 's3cret', token: 'opaque-1' };

function authorizationServer(published: Record<string, string> = {}, { failDiscoveries = 0 } = {}) {
  let failures = failDiscoveries;
  return fakeFetch((request: SeenRequest) => {
    const { pathname } = new URL(request.url);
    if (pathname === '/.well-known/oauth-authorization-server') {
      if (failures > 0) {
        failures -= 1;
        return json({ error: 'server_error' }, 500);
      }
      return json({
        issuer,
        token_endpoint: `${issuer}/token`,
        introspection_endpoint: `${issuer}/introspect`,
        revocation_endpoint: `${issuer}/revoke`,
        ...published,
      });
    }
    if (pathname === '/introspect') return json({ active: true, client_id: 'billing', exp: 2 });
    if (pathname === '/revoke') return new Response(null, { status: 200 });
    return json({ error: 'not_found' }, 404);
  });
}

const discoveries = (fetch: ReturnType<typeof fakeFetch>) =>
  fetch.seen.filter((request) => request.url.includes('/.well-known/')).length;

describe('endpoint discovery of introspectToken and revokeToken', () => {
  it('fetches the discovery document once for calls that share a fetch and an issuer', async () => {
    const fetch = authorizationServer();

    const first = await introspectToken({ ...credentials, fetch });
    const second = await introspectToken({ ...credentials, fetch, token: 'opaque-2' });
    await revokeToken({ ...credentials, fetch });

    expect(first).toEqual({ active: true, client_id: 'billing', exp: 2 });
    expect(second).toEqual({ active: true, client_id: 'billing', exp: 2 });
    expect(discoveries(fetch)).toBe(1);
    expect(fetch.seen.map((request) => new URL(request.url).pathname)).toEqual([
      '/.well-known/oauth-authorization-server',
      '/introspect',
      '/introspect',
      '/revoke',
    ]);
  });

  it('does not remember a failed discovery: the next call discovers again', async () => {
    const fetch = authorizationServer({}, { failDiscoveries: 1 });

    const failure = await introspectToken({ ...credentials, fetch }).catch((e: unknown) => e);
    const result = await introspectToken({ ...credentials, fetch });

    expect(failure).toBeInstanceOf(OAuthError);
    expect(failure).toMatchObject({ status: 500, code: 'server_error' });
    expect(result).toEqual({ active: true, client_id: 'billing', exp: 2 });
    expect(discoveries(fetch)).toBe(2);
  });

  it('holds each call to its own allowInsecureHttp, though the document is shared', async () => {
    const fetch = authorizationServer({
      introspection_endpoint: 'http://idp.example.test/introspect',
    });

    const allowed = await introspectToken({ ...credentials, fetch, allowInsecureHttp: true });
    const refused = await introspectToken({ ...credentials, fetch }).catch((e: unknown) => e);

    expect(allowed).toEqual({ active: true, client_id: 'billing', exp: 2 });
    expect(refused).toBeInstanceOf(ProtocolError);
    expect(refused).toMatchObject({ code: 'insecure_url' });
    expect(discoveries(fetch)).toBe(1);
  });

  it('skips discovery when the endpoint is given', async () => {
    const fetch = authorizationServer();

    const result = await introspectToken({
      ...credentials,
      fetch,
      introspectionEndpoint: `${issuer}/introspect`,
    });

    expect(result).toEqual({ active: true, client_id: 'billing', exp: 2 });
    expect(discoveries(fetch)).toBe(0);
  });
});
