import { describe, expect, it } from 'vitest';
import {
  createEndpointResolver,
  mtlsEndpointMetadata,
  oauthMetadataUrl,
  openIdConfigurationUrl,
  publishedEndpoint,
} from '../../../src/runtime/transport/discovery.js';
import { createIdpClient } from '../../../src/runtime/transport/idp-client.js';
import {
  DiscoveryError,
  NetworkError,
  OAuthError,
  ProtocolError,
} from '../../../src/runtime/errors.js';
import { fakeFetch, json } from '../fake-fetch.js';

const issuer = 'https://idp.example.test';
const metadata = { issuer, token_endpoint: `${issuer}/oauth/token`, jwks_uri: `${issuer}/keys` };

function resolver(fetch: ReturnType<typeof fakeFetch>, overrides = {}) {
  return createEndpointResolver({
    client: createIdpClient(fetch),
    issuer,
    overrides,
    timeoutMs: 1000,
  });
}

describe('discovery URLs', () => {
  it('inserts the RFC 8414 well-known segment before the issuer path', () => {
    expect(oauthMetadataUrl('https://idp.example/tenant/a')).toBe(
      'https://idp.example/.well-known/oauth-authorization-server/tenant/a',
    );
    expect(oauthMetadataUrl('https://idp.example')).toBe(
      'https://idp.example/.well-known/oauth-authorization-server',
    );
  });

  it('appends the OpenID well-known segment to the issuer', () => {
    expect(openIdConfigurationUrl('https://idp.example/tenant/')).toBe(
      'https://idp.example/tenant/.well-known/openid-configuration',
    );
  });
});

describe('endpoint resolution', () => {
  it('discovers once and serves later calls from the cache', async () => {
    const fetch = fakeFetch(() => json(metadata));
    const endpoints = resolver(fetch);
    expect(await endpoints.resolve('token_endpoint')).toBe(metadata.token_endpoint);
    expect(await endpoints.resolve('jwks_uri')).toBe(metadata.jwks_uri);
    expect(fetch.seen.map((r) => r.url)).toEqual([
      `${issuer}/.well-known/oauth-authorization-server`,
    ]);
  });

  it('shares one discovery among callers that ask while it is in flight', async () => {
    const fetch = fakeFetch(() => json(metadata));
    const endpoints = resolver(fetch);
    const [token, keys, document] = await Promise.all([
      endpoints.resolve('token_endpoint'),
      endpoints.resolve('jwks_uri'),
      endpoints.metadata(),
    ]);
    expect([token, keys, document.issuer]).toEqual([
      metadata.token_endpoint,
      metadata.jwks_uri,
      issuer,
    ]);
    expect(fetch.seen).toHaveLength(1);
  });

  it('falls back to the OpenID document when the RFC 8414 one is missing', async () => {
    const fetch = fakeFetch((r) =>
      r.url.includes('oauth-authorization-server')
        ? json({ error: 'not_found' }, 404)
        : json(metadata),
    );
    expect(await resolver(fetch).resolve('token_endpoint')).toBe(metadata.token_endpoint);
    expect(fetch.seen[1]?.url).toBe(`${issuer}/.well-known/openid-configuration`);
  });

  it('keeps unknown metadata members', async () => {
    const fetch = fakeFetch(() => json({ ...metadata, vendor_feature: true }));
    expect(await resolver(fetch).metadata()).toHaveProperty('vendor_feature', true);
  });

  it('rejects a document for another issuer (mix-up defence)', async () => {
    const fetch = fakeFetch(() => json({ ...metadata, issuer: 'https://evil.example.test' }));
    const error = await resolver(fetch)
      .resolve('token_endpoint')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'issuer_mismatch' });
  });

  it('refuses an issuer with a control character in it, and quotes a mismatched one as sent', async () => {
    const fetch = fakeFetch(() =>
      json({ ...metadata, issuer: 'https://evil.example.test/\u001b[2J' }),
    );
    const error = await resolver(fetch)
      .resolve('token_endpoint')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'schema' });
    const mismatch = await resolver(
      fakeFetch(() => json({ ...metadata, issuer: 'https://evil.example.test/a%0d' })),
    )
      .resolve('token_endpoint')
      .catch((e: unknown) => e);
    expect(mismatch).toMatchObject({ code: 'issuer_mismatch' });
    expect((mismatch as Error).message).toContain('"https://evil.example.test/a%0d"');
  });

  it('skips discovery for an endpoint given explicitly', async () => {
    const fetch = fakeFetch(() => json(metadata));
    expect(
      await resolver(fetch, { token_endpoint: 'https://other.example/token' }).resolve(
        'token_endpoint',
      ),
    ).toBe('https://other.example/token');
    expect(fetch.seen).toHaveLength(0);
  });

  it('says which member is missing', async () => {
    const fetch = fakeFetch(() => json({ issuer }));
    await expect(resolver(fetch).resolve('introspection_endpoint')).rejects.toThrow(
      /introspection_endpoint/,
    );
  });

  it('does not remember a failed discovery', async () => {
    const fetch = fakeFetch((_, i) =>
      i === 0 ? new Response('down', { status: 500 }) : json(metadata),
    );
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
        request.signal.addEventListener('abort', () => reject(request.signal.reason as unknown));
      });
    const endpoints = createEndpointResolver({
      client: createIdpClient(never),
      issuer,
      overrides: {},
      timeoutMs: 50,
    });
    const error = await endpoints.resolve('token_endpoint').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'timeout' });
    expect((error as Error).message).toMatch(/within 50 ms/);
  });
});

describe('no discovery document', () => {
  it('says which URLs it tried and what each answered, as a DiscoveryError', async () => {
    const fetch = fakeFetch(() => json({ error: 'not_found' }, 404));
    const error = await resolver(fetch)
      .resolve('token_endpoint')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscoveryError);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      code: 'discovery_not_found',
      tried: [
        { url: `${issuer}/.well-known/oauth-authorization-server`, status: 404 },
        { url: `${issuer}/.well-known/openid-configuration`, status: 404 },
      ],
    });
    expect((error as Error).message).toBe(
      `no discovery document for issuer ${issuer}: tried ${issuer}/.well-known/oauth-authorization-server (404) ` +
        `and ${issuer}/.well-known/openid-configuration (404); is \`issuer\` the server's issuer identifier, exactly?`,
    );
  });

  it('keeps each status as answered', async () => {
    const fetch = fakeFetch(
      (r) => new Response('', { status: r.url.includes('openid') ? 403 : 400 }),
    );
    const error = await resolver(fetch)
      .resolve('jwks_uri')
      .catch((e: unknown) => e);
    expect((error as DiscoveryError).tried.map((t) => t.status)).toEqual([400, 403]);
  });

  it('still gives an OAuthError when the OpenID URL fails with a server error', async () => {
    const fetch = fakeFetch(
      (r) => new Response('', { status: r.url.includes('openid') ? 503 : 404 }),
    );
    const error = await resolver(fetch)
      .resolve('token_endpoint')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 503 });
  });

  it('does not fall back to the OpenID URL after a redirect: the redirect is refused', async () => {
    const fetch = fakeFetch(
      () => new Response(null, { status: 302, headers: { location: 'https://evil.example/x' } }),
    );
    const error = await resolver(fetch)
      .resolve('token_endpoint')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'redirect' });
    expect(fetch.seen).toHaveLength(1);
  });
});

describe('issuer identity (RFC 8414 §3.3)', () => {
  it.each([
    ['a trailing line break', `${issuer}\n`],
    ['a leading space', ` ${issuer}`],
    ['a tab inside the host', 'https://idp.example\t.test'],
    ['a CR LF inside', 'https://idp.exa\r\nmple.test'],
  ])(
    'refuses a document whose issuer differs from the configured one by %s',
    async (_name, sent) => {
      const fetch = fakeFetch(() => json({ ...metadata, issuer: sent }));
      const error = await resolver(fetch)
        .resolve('token_endpoint')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({
        code: 'schema',
        cause: [{ path: 'issuer', code: 'invalid_format' }],
      });
    },
  );

  it.each([
    ['a trailing slash', `${issuer}/`],
    ['another case in the host', 'https://IDP.example.test'],
    ['a default port written out', 'https://idp.example.test:443'],
  ])(
    'refuses an issuer that is the same URL written with %s, with code issuer_mismatch',
    async (_name, sent) => {
      const fetch = fakeFetch(() => json({ ...metadata, issuer: sent }));
      const error = await resolver(fetch)
        .resolve('token_endpoint')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: 'issuer_mismatch' });
    },
  );
});

describe('endpoints a discovery document publishes', () => {
  function resolverWith(document: Record<string, unknown>, allowInsecureHttp?: boolean) {
    return createEndpointResolver({
      client: createIdpClient(fakeFetch(() => json({ ...metadata, ...document }))),
      issuer,
      overrides: {},
      timeoutMs: 1000,
      ...(allowInsecureHttp === undefined ? {} : { allowInsecureHttp }),
    });
  }

  it.each(['token_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint'] as const)(
    'refuses a plain-HTTP %s on a host that is not loopback, with code insecure_url',
    async (name) => {
      const error = await resolverWith({ [name]: 'http://idp.example.test/x' })
        .resolve(name)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({
        code: 'insecure_url',
        cause: [{ path: name, code: 'insecure_url' }],
      });
      expect((error as Error).message).toContain('allowInsecureHttp');
    },
  );

  it('takes a plain-HTTP endpoint on loopback, and anywhere with allowInsecureHttp', async () => {
    expect(
      await resolverWith({ token_endpoint: 'http://127.0.0.1:8080/token' }).resolve(
        'token_endpoint',
      ),
    ).toBe('http://127.0.0.1:8080/token');
    expect(await resolverWith({ jwks_uri: 'http://localhost/keys' }).resolve('jwks_uri')).toBe(
      'http://localhost/keys',
    );
    expect(
      await resolverWith({ jwks_uri: 'http://idp.example.test/keys' }, true).resolve('jwks_uri'),
    ).toBe('http://idp.example.test/keys');
  });

  it.each([
    ['not http(s)', 'urn:example:token'],
    ['ftp', 'ftp://idp.example.test/token'],
    ['carrying credentials', 'https://user:pass@idp.example.test/token'],
  ])('refuses an endpoint that is %s, with code invalid_url', async (_name, value) => {
    const error = await resolverWith({ token_endpoint: value })
      .resolve('token_endpoint')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'invalid_url' });
    expect((error as Error).message).not.toContain('pass@');
  });

  it('checks only the endpoint asked for', async () => {
    const endpoints = resolverWith({ revocation_endpoint: 'http://idp.example.test/revoke' });
    expect(await endpoints.resolve('token_endpoint')).toBe(metadata.token_endpoint);
  });

  it('names a missing endpoint with code missing_endpoint', async () => {
    const error = await resolverWith({})
      .resolve('introspection_endpoint')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'missing_endpoint' });
  });
});

describe('allowInsecureHttp reaches discovery from every factory', () => {
  const issuer = 'http://idp.example.com';
  const document = {
    issuer,
    token_endpoint: 'http://idp.example.com/token',
    jwks_uri: 'http://idp.example.com/jwks',
    introspection_endpoint: 'http://idp.example.com/introspect',
  };
  const fetch = async (input: Request) => {
    const { pathname } = new URL(input.url);
    if (pathname.includes('.well-known')) return Response.json(document);
    if (pathname === '/token')
      return Response.json({ access_token: 'a', token_type: 'Bearer', expires_in: 60 });
    if (pathname === '/introspect') return Response.json({ active: false });
    if (pathname === '/jwks') return Response.json({ keys: [] });
    return new Response(null, { status: 404 });
  };

  it('lets createAuthClient use a discovered plain-HTTP token endpoint only when allowed', async () => {
    const { createAuthClient } = await import('../../../src/client.js');
    const auth = createAuthClient({
      issuer,
      clientId: 'c',
      clientSecret: 's',
      fetch,
      allowInsecureHttp: true,
    });
    await expect(auth.getAccessToken()).resolves.toBe('a');
  });

  it('lets introspectToken use a discovered plain-HTTP endpoint only when allowed', async () => {
    const { introspectToken } = await import('../../../src/server.js');
    const options = { issuer, clientId: 'c', clientSecret: 's', token: 't', fetch };
    await expect(introspectToken({ ...options, allowInsecureHttp: true })).resolves.toEqual({
      active: false,
    });
    await expect(introspectToken(options)).rejects.toThrow(/allowInsecureHttp/);
  });

  it('lets createResourceServer fetch a discovered plain-HTTP key set only when allowed', async () => {
    const { createResourceServer, TokenError } = await import('../../../src/server.js');
    const server = createResourceServer({ issuer, audience: 'a', fetch, allowInsecureHttp: true });
    const token =
      'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsifQ.eyJpc3MiOiJodHRwOi8vaWRwLmV4YW1wbGUuY29tIiwiZXhwIjo5OTk5OTk5OTk5LCJhdWQiOiJhIn0.AAAA';
    const error = await server.verifyToken(token).catch((caught: unknown) => caught);
    // The key set was fetched (it is empty, so no key fits): not refused as an insecure URL.
    expect(error).toBeInstanceOf(TokenError);
    expect((error as InstanceType<typeof TokenError>).reason).not.toBe('jwks');
  });
});

describe('mtlsEndpointMetadata (RFC 8705 §5)', () => {
  const metadata = {
    issuer: 'https://idp.example',
    token_endpoint: 'https://idp.example/token',
    introspection_endpoint: 'https://idp.example/introspect',
    revocation_endpoint: 'https://idp.example/revoke',
    jwks_uri: 'https://idp.example/jwks',
  };

  it('sends token, introspection and revocation requests to their aliases', () => {
    const chosen = mtlsEndpointMetadata({
      ...metadata,
      mtls_endpoint_aliases: {
        token_endpoint: 'https://mtls.idp.example/token',
        introspection_endpoint: 'https://mtls.idp.example/introspect',
        revocation_endpoint: 'https://mtls.idp.example/revoke',
        jwks_uri: 'https://mtls.idp.example/jwks',
      },
    });
    expect(chosen.token_endpoint).toBe('https://mtls.idp.example/token');
    expect(chosen.introspection_endpoint).toBe('https://mtls.idp.example/introspect');
    expect(chosen.revocation_endpoint).toBe('https://mtls.idp.example/revoke');
    // The key set is not fetched with the client certificate.
    expect(chosen.jwks_uri).toBe('https://idp.example/jwks');
    expect(chosen.issuer).toBe('https://idp.example');
  });

  it('keeps an endpoint that has no alias, and the document without aliases as it is', () => {
    const chosen = mtlsEndpointMetadata({
      ...metadata,
      mtls_endpoint_aliases: { token_endpoint: 'https://mtls.idp.example/token' },
    });
    expect(chosen.token_endpoint).toBe('https://mtls.idp.example/token');
    expect(chosen.revocation_endpoint).toBe('https://idp.example/revoke');
    expect(mtlsEndpointMetadata(metadata)).toBe(metadata);
  });

  it('refuses mtls_endpoint_aliases that is not an object (ProtocolError schema)', () => {
    for (const aliases of ['https://mtls.idp.example', ['x'], null]) {
      let failure: unknown;
      try {
        mtlsEndpointMetadata({ ...metadata, mtls_endpoint_aliases: aliases });
      } catch (error) {
        failure = error;
      }
      expect(failure).toBeInstanceOf(ProtocolError);
      expect((failure as ProtocolError).code).toBe('schema');
    }
  });

  it('leaves a bad alias to the check every published endpoint gets, so it is refused, not skipped', () => {
    const notUrl = mtlsEndpointMetadata({
      ...metadata,
      mtls_endpoint_aliases: { token_endpoint: 42 },
    });
    expect(() => publishedEndpoint(notUrl, 'token_endpoint', false)).toThrow(
      expect.objectContaining({ code: 'missing_endpoint' }),
    );
    const plainHttp = mtlsEndpointMetadata({
      ...metadata,
      mtls_endpoint_aliases: { token_endpoint: 'http://mtls.idp.example/token' },
    });
    expect(() => publishedEndpoint(plainHttp, 'token_endpoint', false)).toThrow(
      expect.objectContaining({ code: 'insecure_url' }),
    );
  });
});
