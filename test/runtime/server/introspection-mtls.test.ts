/**
 * A resource server introspecting over mutual TLS (RFC 8705 §2, §5): with a TLS method its
 * introspection requests name the client by `client_id` only and go to the discovery document's
 * `mtls_endpoint_aliases`, through the certificate of `introspection.tls` (or the server's own
 * `fetch`), while discovery and key sets stay on the plain endpoints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer, TokenError } from '../../../src/server.js';
import { createTestPki, type TestPki } from '../../support/mtls.js';
import { fakeFetch, json, type SeenRequest } from '../fake-fetch.js';
import { AUDIENCE, ISSUER, START } from './helpers.js';
import { optionErrorOf } from '../../support/caught.js';

const OPAQUE = 'b3BhcXVlX210bHNfdG9rZW5fdmFsdWVfMTIzNDU2Nzg5';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.remove());

function authorizationServer(aliases: Record<string, string> | undefined) {
  const now = START.getTime() / 1000;
  return fakeFetch((request: SeenRequest) => {
    const { pathname } = new URL(request.url);
    if (pathname === '/.well-known/oauth-authorization-server') {
      return json({
        issuer: ISSUER,
        jwks_uri: `${ISSUER}/jwks`,
        token_endpoint: `${ISSUER}/token`,
        introspection_endpoint: `${ISSUER}/introspect`,
        ...(aliases === undefined ? {} : { mtls_endpoint_aliases: aliases }),
      });
    }
    if (pathname === '/introspect' || pathname === '/mtls/introspect') {
      return json({ active: true, iss: ISSUER, aud: AUDIENCE, client_id: 'w', exp: now + 60 });
    }
    return json({ error: 'not_found' }, 404);
  });
}

const aliases = {
  introspection_endpoint: `${ISSUER}/mtls/introspect`,
  // Only the introspection alias is the resource server's to use.
  token_endpoint: `${ISSUER}/mtls/token`,
};

function server(
  fetch: ReturnType<typeof fakeFetch> | undefined,
  introspection: Record<string, unknown>,
) {
  return createResourceServer({
    issuer: ISSUER,
    audience: AUDIENCE,
    ...(fetch === undefined ? {} : { fetch }),
    now: () => START,
    introspection: { clientId: 'orders-api', ...introspection },
  });
}

describe('a resource server introspecting with a TLS method', () => {
  for (const clientAuth of ['tls_client_auth', 'self_signed_tls_client_auth']) {
    it(`sends ${clientAuth} to the introspection alias with client_id only`, async () => {
      const fetch = authorizationServer(aliases);
      await expect(server(fetch, { clientAuth }).verifyToken(OPAQUE)).resolves.toMatchObject({
        client_id: 'w',
      });
      expect(fetch.seen.map((request) => new URL(request.url).pathname)).toEqual([
        '/.well-known/oauth-authorization-server',
        '/mtls/introspect',
      ]);
      const sent = fetch.seen[1]!;
      expect(sent.headers.get('authorization')).toBeNull();
      expect([...sent.form.keys()].sort()).toEqual(['client_id', 'token', 'token_type_hint']);
      expect(sent.form.get('client_id')).toBe('orders-api');
    });
  }

  it('uses the plain endpoint without an alias, and a configured one over the alias', async () => {
    const plain = authorizationServer(undefined);
    await server(plain, { clientAuth: 'tls_client_auth' }).verifyToken(OPAQUE);
    expect(plain.seen.at(-1)!.url).toBe(`${ISSUER}/introspect`);

    const aliased = authorizationServer(aliases);
    await server(aliased, {
      clientAuth: 'tls_client_auth',
      introspectionEndpoint: `${ISSUER}/introspect`,
    }).verifyToken(OPAQUE);
    expect(aliased.seen.map((request) => request.url)).toEqual([`${ISSUER}/introspect`]);
  });

  it('keeps the plain endpoint and Basic credentials for a client secret', async () => {
    const fetch = authorizationServer(aliases);
    await server(fetch, { clientSecret: 'rs-secret' }).verifyToken(OPAQUE);
    expect(fetch.seen.at(-1)!.url).toBe(`${ISSUER}/introspect`);
    expect(fetch.seen.at(-1)!.headers.get('authorization')).toMatch(/^Basic /);
  });

  it('sends introspection through the certificate of tls, not the server fetch', async () => {
    // The alias is a closed port: only a request made by the mTLS fetch can go there.
    const fetch = authorizationServer({ introspection_endpoint: 'https://127.0.0.1:9/introspect' });
    const rs = server(fetch, {
      clientAuth: 'tls_client_auth',
      tls: { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert },
    });
    const error = await rs.verifyToken(OPAQUE).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ reason: 'introspection', status: 503 });
    expect(fetch.seen.map((request) => new URL(request.url).pathname)).toEqual([
      '/.well-known/oauth-authorization-server',
    ]);
    expect(JSON.stringify(error)).not.toContain(pki.client.key.split('\n')[1]);
  });
});

describe('the mutual TLS options of introspection', () => {
  const tls = () => ({ cert: pki.client.cert, key: pki.client.key });

  it('refuses a client secret beside a TLS method', () => {
    const error = optionErrorOf(() =>
      server(authorizationServer(aliases), {
        clientAuth: 'tls_client_auth',
        clientSecret: 'rs-secret',
      }),
    );
    expect(error.option).toBe('introspection.clientSecret');
    expect(error.message).not.toContain('rs-secret');
  });

  it('requires introspection.tls unless the server has a fetch that presents the certificate', () => {
    const error = optionErrorOf(() => server(undefined, { clientAuth: 'tls_client_auth' }));
    expect(error.option).toBe('introspection.tls');
    expect(error.message).toMatch(/`introspection\.tls` \(the client certificate and key\)/);
  });

  it('takes introspection.tls beside the server fetch, which keeps discovery and key sets', () => {
    expect(() =>
      server(authorizationServer(aliases), { clientAuth: 'tls_client_auth', tls: tls() }),
    ).not.toThrow();
    expect(() => server(undefined, { clientAuth: 'tls_client_auth', tls: tls() })).not.toThrow();
  });

  it('refuses introspection.tls with a secret method', () => {
    const error = optionErrorOf(() =>
      server(authorizationServer(aliases), { clientSecret: 'rs-secret', tls: tls() }),
    );
    expect(error.option).toBe('introspection.tls');
    expect(error.message).toMatch(/`introspection\.clientAuth: 'tls_client_auth'`/);
  });

  it('refuses an unknown method and a tls it cannot read', () => {
    expect(
      optionErrorOf(() =>
        server(authorizationServer(aliases), { clientAuth: 'private_key_jwt', tls: tls() }),
      ).option,
    ).toBe('introspection.clientAuth');
    const swapped = optionErrorOf(() =>
      server(undefined, {
        clientAuth: 'tls_client_auth',
        tls: { cert: pki.client.key, key: pki.client.cert },
      }),
    );
    expect(swapped.option).toBe('introspection.tls.cert');
    expect(swapped.message).not.toContain(pki.client.key.split('\n')[1]);
  });
});
