/**
 * How the client fails: OAuth errors from a real IdP, unreachable and silent servers, answers
 * that break the spec, bad options, and the promise that no error ever carries a secret, a
 * private key or a whole token.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import {
  AuthError,
  createAuthClient,
  DiscoveryError,
  introspectToken,
  NetworkError,
  OAuthError,
  ProtocolError,
  revokeToken,
  type AuthClientOptions,
} from '../../src/index.js';
import {
  closedPort,
  sendJson,
  sendText,
  startServer,
  type ReceivedRequest,
  type TestServer,
} from '../support/http.js';
import { CLIENTS, mintAccessToken, RESOURCES, startIdp, type TestIdp } from '../support/idp.js';
import { collectGarbage, settleWithin, sleep } from '../support/timing.js';

let idp: TestIdp;
/** A token endpoint whose answer each test scripts. */
let stub: TestServer;

beforeAll(async () => {
  idp = await startIdp();
  stub = await startServer((_request, response) => sendJson(response, 500, {}));
});

afterAll(async () => {
  await Promise.all([idp.close(), stub.close()]);
});

function basic(overrides: Partial<AuthClientOptions> = {}): AuthClientOptions {
  return {
    issuer: idp.issuer,
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    ...overrides,
  };
}

/** A Basic client whose token endpoint is the stub. */
function stubClient(overrides: Partial<AuthClientOptions> = {}) {
  return createAuthClient({
    tokenEndpoint: `${stub.origin}/token`,
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

describe('OAuth errors from the IdP', () => {
  it('maps a wrong client secret to OAuthError invalid_client with status 401', async () => {
    const error = await failure(
      createAuthClient(basic({ clientSecret: 'not-the-secret' })).getToken(),
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401, name: 'OAuthError' });
  });

  it('maps a scope the client may not ask for to OAuthError invalid_scope', async () => {
    const error = await failure(createAuthClient(basic()).getToken({ scope: 'orders:admin' }));
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_scope', status: 400 });
  });

  it('maps an unknown resource to OAuthError invalid_target', async () => {
    const error = await failure(
      createAuthClient(basic({ resource: 'https://unknown.example.test/' })).getToken(),
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_target', status: 400 });
  });

  it('maps a DPoP-only client asking without a proof to OAuthError invalid_grant', async () => {
    const client = createAuthClient({
      issuer: idp.issuer,
      clientId: CLIENTS.dpopOnly.clientId,
      clientSecret: CLIENTS.dpopOnly.clientSecret,
    });
    const error = await failure(client.getToken());
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400 });
  });

  it('keeps the error_description of the answer', async () => {
    stub.handle((_request, response) =>
      sendJson(response, 400, {
        error: 'invalid_scope',
        error_description: 'orders:admin is not for you',
      }),
    );
    const error = await failure(stubClient().getToken());
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({
      code: 'invalid_scope',
      status: 400,
      description: 'orders:admin is not for you',
    });
  });

  it('still gives an OAuthError for a 500 answered with an HTML page', async () => {
    stub.handle((_request, response) =>
      sendText(
        response,
        500,
        '<html><body><h1>Internal Server Error</h1></body></html>',
        'text/html',
      ),
    );
    const error = await failure(stubClient().getToken());
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 500, code: 'server_error' });
  });

  it('gives an OAuthError for a 401 without a body', async () => {
    stub.handle((_request, response) => {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="idp"' });
      response.end();
    });
    const error = await failure(stubClient().getToken());
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_client' });
  });

  it('fails discovery with an OAuthError when the IdP answers 500 to it', async () => {
    stub.handle((_request, response) => sendText(response, 500, 'oops'));
    const error = await failure(
      createAuthClient({ issuer: stub.origin, clientId: 'x', clientSecret: 'y' }).getToken(),
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 500 });
  });
});

describe('unreachable and silent servers', () => {
  it('gives a NetworkError with a cause when nothing listens on the token endpoint', async () => {
    const port = await closedPort();
    const error = await failure(
      createAuthClient(
        basic({ issuer: undefined, tokenEndpoint: `http://127.0.0.1:${port}/token` }),
      ).getToken(),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'refused' });
    expect((error as NetworkError).message).toMatch(/connection refused/);
    expect((error as NetworkError).cause).toBeDefined();
  });

  it('gives a NetworkError when nothing listens at the issuer (discovery)', async () => {
    const port = await closedPort();
    const error = await failure(
      createAuthClient(basic({ issuer: `http://127.0.0.1:${port}` })).getToken(),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'refused' });
    expect((error as NetworkError).cause).toBeDefined();
  });

  it('says so, with code tls, when TLS is spoken to a plain-HTTP port', async () => {
    const error = await failure(
      createAuthClient(
        basic({ issuer: undefined, tokenEndpoint: `https://127.0.0.1:${stub.port}/token` }),
      ).getToken(),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'tls' });
    expect((error as NetworkError).message).toMatch(
      /TLS handshake failed: the server answered in plain HTTP, not TLS/,
    );
  });

  it('gives a NetworkError after timeoutMs when the server never answers', async () => {
    stub.handle(() => {
      // Never answer.
    });
    const started = Date.now();
    const error = await settleWithin(stubClient({ timeoutMs: 200 }).getToken(), 3_000);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(150);
  });

  it('gives a NetworkError after timeoutMs when the server sends headers but never finishes the body', async () => {
    stub.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"access_token":"');
    });
    const error = await settleWithin(stubClient({ timeoutMs: 200 }).getToken(), 3_000);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'timeout' });
  });

  it('still times out when the garbage collector runs while the request waits', async () => {
    stub.handle(() => {
      // Never answer.
    });
    const pending = stubClient({ timeoutMs: 200 }).getToken();
    await sleep(50);
    collectGarbage();
    expect(await settleWithin(pending, 3_000)).toBeInstanceOf(NetworkError);
  });

  it('gives a NetworkError when discovery never answers', async () => {
    stub.handle(() => {
      // Never answer.
    });
    const error = await settleWithin(
      createAuthClient({
        issuer: stub.origin,
        clientId: 'x',
        clientSecret: 'y',
        timeoutMs: 200,
      }).getToken(),
      3_000,
    );
    expect(error).toBeInstanceOf(NetworkError);
  });

  it('gives a NetworkError when the server drops the connection', async () => {
    stub.handle((_request, response) => {
      response.socket?.destroy();
    });
    const error = await failure(stubClient().getToken());
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'reset' });
  });
});

describe('answers that break the spec', () => {
  const cases: {
    name: string;
    code?: 'not_json' | 'schema';
    answer: (request: ReceivedRequest, response: import('node:http').ServerResponse) => void;
  }[] = [
    {
      name: 'a 200 that is not JSON',
      code: 'not_json',
      answer: (_q, r) => sendText(r, 200, 'access_token=abc&token_type=bearer'),
    },
    {
      name: 'a 200 with an HTML page',
      code: 'not_json',
      answer: (_q, r) => sendText(r, 200, '<html>login</html>', 'text/html'),
    },
    {
      name: 'a 200 with an empty body',
      code: 'not_json',
      answer: (_q, r) => sendText(r, 200, '', 'application/json'),
    },
    {
      name: 'a 200 JSON without access_token',
      answer: (_q, r) => sendJson(r, 200, { token_type: 'Bearer', expires_in: 60 }),
    },
    {
      name: 'a 200 JSON without token_type',
      answer: (_q, r) => sendJson(r, 200, { access_token: 'abc', expires_in: 60 }),
    },
    {
      name: 'a 200 JSON array',
      answer: (_q, r) => sendJson(r, 200, [{ access_token: 'abc', token_type: 'Bearer' }]),
    },
    { name: 'a 200 JSON null', answer: (_q, r) => sendJson(r, 200, 'null') },
    {
      name: 'an access_token that is a number',
      answer: (_q, r) => sendJson(r, 200, { access_token: 42, token_type: 'Bearer' }),
    },
    {
      name: 'a token_type that is a number',
      answer: (_q, r) => sendJson(r, 200, { access_token: 'abc', token_type: 1 }),
    },
    {
      name: 'an expires_in that is not a number',
      answer: (_q, r) =>
        sendJson(r, 200, { access_token: 'abc', token_type: 'Bearer', expires_in: 'soon' }),
    },
    {
      name: 'a scope that is not a string',
      answer: (_q, r) =>
        sendJson(r, 200, { access_token: 'abc', token_type: 'Bearer', scope: ['orders:read'] }),
    },
  ];

  it.each(cases)(
    'rejects $name with a ProtocolError whose cause describes the problem',
    async ({ answer, code = 'schema' }) => {
      stub.handle(answer);
      const error = await failure(stubClient().getToken());
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ code });
      expect((error as ProtocolError).cause).toBeDefined();
    },
  );

  it('names the missing member in the ProtocolError cause', async () => {
    stub.handle((_q, r) => sendJson(r, 200, { token_type: 'Bearer' }));
    const error = (await failure(stubClient().getToken())) as ProtocolError;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(JSON.stringify(error.cause)).toContain('access_token');
  });

  it('rejects a discovery document that is not JSON with a ProtocolError', async () => {
    stub.handle((_q, r) => sendText(r, 200, 'hello', 'text/html'));
    const error = await failure(
      createAuthClient({ issuer: stub.origin, clientId: 'x', clientSecret: 'y' }).getToken(),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'not_json' });
  });

  it('rejects a discovery document without a token_endpoint with a ProtocolError', async () => {
    stub.handle((_q, r) =>
      sendJson(r, 200, { issuer: stub.origin, jwks_uri: `${stub.origin}/jwks` }),
    );
    const error = await failure(
      createAuthClient({ issuer: stub.origin, clientId: 'x', clientSecret: 'y' }).getToken(),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'missing_endpoint' });
    expect(stub.requests.at(-1)?.path).not.toBe('/token');
  });

  it('says which discovery URLs it tried when the issuer path is wrong (a real IdP)', async () => {
    const wrong = `${idp.issuer}/tenant-a`;
    const error = await failure(
      createAuthClient({ issuer: wrong, clientId: 'x', clientSecret: 'y' }).getToken(),
    );
    expect(error).toBeInstanceOf(DiscoveryError);
    expect(error).toBeInstanceOf(ProtocolError);
    const origin = new URL(idp.issuer).origin;
    const oauthUrl = `${origin}/.well-known/oauth-authorization-server${new URL(wrong).pathname}`;
    const openIdUrl = `${wrong}/.well-known/openid-configuration`;
    expect(error).toMatchObject({
      code: 'discovery_not_found',
      tried: [
        { url: oauthUrl, status: 404 },
        { url: openIdUrl, status: 404 },
      ],
    });
    expect((error as Error).message).toContain(`tried ${oauthUrl} (404) and ${openIdUrl} (404)`);
  });
});

describe('bad options', () => {
  const valid = (): AuthClientOptions => ({
    issuer: 'https://idp.example.test',
    clientId: 'orders-worker',
    clientSecret: 's3cret',
  });
  const cases: [string, () => unknown][] = [
    ['no options at all', () => (createAuthClient as (options?: unknown) => unknown)()],
    ['a missing clientId', () => ({ ...valid(), clientId: undefined })],
    ['an empty clientId', () => ({ ...valid(), clientId: '' })],
    ['neither issuer nor tokenEndpoint', () => ({ ...valid(), issuer: undefined })],
    ['an issuer that is not a URL', () => ({ ...valid(), issuer: 'idp.example.test' })],
    ['an issuer that is not http(s)', () => ({ ...valid(), issuer: 'ftp://idp.example.test' })],
    ['a tokenEndpoint that is not a URL', () => ({ ...valid(), tokenEndpoint: '/token' })],
    [
      'a missing clientSecret for client_secret_basic',
      () => ({ ...valid(), clientSecret: undefined }),
    ],
    [
      'a missing clientSecret for client_secret_post',
      () => ({ ...valid(), clientSecret: undefined, clientAuth: 'client_secret_post' }),
    ],
    [
      'a missing privateKey for private_key_jwt',
      () => ({ ...valid(), clientAuth: 'private_key_jwt' }),
    ],
    [
      'a privateKey that is a string',
      () => ({ ...valid(), clientAuth: 'private_key_jwt', privateKey: 'PEM' }),
    ],
    ['an unknown clientAuth', () => ({ ...valid(), clientAuth: 'client_secret_jwt' })],
    ['a negative timeoutMs', () => ({ ...valid(), timeoutMs: -1 })],
    ['a zero timeoutMs', () => ({ ...valid(), timeoutMs: 0 })],
    ['a timeoutMs that is not a number', () => ({ ...valid(), timeoutMs: '1000' })],
    ['a NaN timeoutMs', () => ({ ...valid(), timeoutMs: Number.NaN })],
    ['a negative refreshSkewSeconds', () => ({ ...valid(), refreshSkewSeconds: -5 })],
    ['a dpop option that is a string', () => ({ ...valid(), dpop: 'yes' })],
    [
      'a dpop key pair without a public key',
      () => ({ ...valid(), dpop: { privateKey: { kty: 'OKP' } } }),
    ],
    ['a fetch that is not a function', () => ({ ...valid(), fetch: 'fetch' })],
    ['a now that is not a function', () => ({ ...valid(), now: new Date() })],
    ['a scope that is a number', () => ({ ...valid(), scope: 42 })],
    ['a resource that is not an absolute URI', () => ({ ...valid(), resource: 'orders' })],
  ];

  it.each(cases)('throws a TypeError at creation for %s', (_name, make) => {
    expect(() => {
      const options = make();
      if (options !== undefined) createAuthClient(options as AuthClientOptions);
    }).toThrow(TypeError);
  });

  it('accepts tokenEndpoint without an issuer', () => {
    expect(() =>
      createAuthClient({
        tokenEndpoint: 'https://idp.example.test/token',
        clientId: 'a',
        clientSecret: 'b',
      }),
    ).not.toThrow();
  });

  it('accepts refreshSkewSeconds of 0', () => {
    expect(() => createAuthClient({ ...valid(), refreshSkewSeconds: 0 })).not.toThrow();
  });

  it('does not contact anything when creating a client', () => {
    let calls = 0;
    createAuthClient({
      ...valid(),
      fetch: async () => {
        calls++;
        return new Response('{}');
      },
    });
    expect(calls).toBe(0);
  });
});

describe('no secret, private key or token in any error', () => {
  const secret = CLIENTS.basic.clientSecret;
  const postSecret = CLIENTS.post.clientSecret;
  const privateD = String(CLIENTS.privateKeyJwt.privateJwk.d);
  /** A token-shaped value the stub hands out, to catch it being echoed. */
  const stubToken =
    'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdG9rZW4tdmFsdWUifQ.c2lnbmF0dXJlLXZhbHVlLXNlY3JldA';

  function renderings(value: unknown): string[] {
    const error = value as Error;
    const out = [
      String(error),
      error.message,
      error.stack ?? '',
      inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      inspect(error, { depth: Number.POSITIVE_INFINITY }),
    ];
    try {
      out.push(JSON.stringify(error) ?? '');
    } catch {
      // A circular cause cannot be stringified at all, so it cannot leak that way either.
    }
    try {
      out.push(JSON.stringify(error.cause) ?? '');
    } catch {
      // As above.
    }
    return out;
  }

  function expectClean(error: unknown, secrets: string[]) {
    expect(error).toBeInstanceOf(Error);
    for (const rendering of renderings(error)) {
      for (const value of secrets) expect(rendering).not.toContain(value);
    }
  }

  /** A stub that echoes what it received, decoded, into error_description: a careless IdP. */
  function echoDecodedCredentials(status = 400) {
    stub.handle((request, response) => {
      const form = new URLSearchParams(request.body);
      const basic = (request.headers.authorization ?? '').replace(/^Basic /, '');
      const decoded = Buffer.from(basic, 'base64')
        .toString('utf8')
        .split(':')
        .map(decodeURIComponent)
        .join(':');
      sendJson(response, status, {
        error: 'invalid_client',
        error_description: `rejected ${decoded} ${form.get('client_secret')} ${form.get('client_assertion')} ${form.get('token')} ${request.body}`,
      });
    });
  }

  it('keeps the client secret out of a real invalid_client error', async () => {
    const wrong = 'Wr0ng:secret%value+ with spaces/9f';
    expectClean(await failure(createAuthClient(basic({ clientSecret: wrong })).getToken()), [
      wrong,
    ]);
  });

  it('keeps the client secret out of an error whose description echoes it (client_secret_basic)', async () => {
    echoDecodedCredentials();
    const error = await failure(stubClient().getToken());
    expect(error).toBeInstanceOf(OAuthError);
    expectClean(error, [secret]);
  });

  it('keeps the client secret out of an error whose description echoes it (client_secret_post)', async () => {
    echoDecodedCredentials(401);
    const error = await failure(
      stubClient({
        clientId: CLIENTS.post.clientId,
        clientSecret: postSecret,
        clientAuth: 'client_secret_post',
      }).getToken(),
    );
    expect(error).toBeInstanceOf(OAuthError);
    expectClean(error, [postSecret]);
  });

  it('keeps the private key out of errors of a private_key_jwt client', async () => {
    echoDecodedCredentials();
    const options = {
      tokenEndpoint: `${stub.origin}/token`,
      clientId: CLIENTS.privateKeyJwt.clientId,
      clientAuth: 'private_key_jwt' as const,
      privateKey: CLIENTS.privateKeyJwt.privateJwk,
    };
    expectClean(await failure(createAuthClient(options).getToken()), [privateD]);
    const port = await closedPort();
    expectClean(
      await failure(
        createAuthClient({
          ...options,
          tokenEndpoint: `http://127.0.0.1:${port}/token`,
        }).getToken(),
      ),
      [privateD],
    );
  });

  it('keeps the DPoP private key out of errors', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const privateKey = await exportJWK(pair.privateKey);
    const publicKey = await exportJWK(pair.publicKey);
    stub.handle((_q, r) =>
      sendJson(r, 400, { error: 'invalid_dpop_proof', error_description: 'bad proof' }),
    );
    const error = await failure(stubClient({ dpop: { privateKey, publicKey } }).getToken());
    expect(error).toBeInstanceOf(OAuthError);
    expectClean(error, [String(privateKey.d)]);
  });

  it('keeps tokens out of ProtocolErrors about a token response', async () => {
    for (const body of [
      { access_token: stubToken, token_type: 7 },
      { access_token: stubToken, token_type: 'Bearer', expires_in: 'soon' },
      { access_token: stubToken, token_type: 'Bearer', scope: { value: stubToken } },
    ]) {
      stub.handle((_q, r) => sendJson(r, 200, body));
      const error = await failure(stubClient().getToken());
      expect(error).toBeInstanceOf(ProtocolError);
      expectClean(error, [stubToken, secret]);
    }
    stub.handle((_q, r) => sendText(r, 200, `access_token=${stubToken}&client_secret=${secret}`));
    const error = await failure(stubClient().getToken());
    expect(error).toBeInstanceOf(ProtocolError);
    expectClean(error, [stubToken, secret]);
  });

  it('keeps the client secret out of network and timeout errors', async () => {
    const port = await closedPort();
    expectClean(
      await failure(stubClient({ tokenEndpoint: `http://127.0.0.1:${port}/token` }).getToken()),
      [secret],
    );
    stub.handle(() => {
      // Never answer.
    });
    const timedOut = await settleWithin(stubClient({ timeoutMs: 100 }).getToken(), 3_000);
    expect(timedOut).toBeInstanceOf(NetworkError);
    expectClean(timedOut, [secret]);
  });

  it('keeps the token and the caller secret out of introspection and revocation errors', async () => {
    const token = await mintAccessToken(idp, { resource: RESOURCES.opaque, scope: 'ledger:read' });
    const callerSecret = CLIENTS.resourceServer.clientSecret;
    echoDecodedCredentials();
    const caller = { clientId: CLIENTS.resourceServer.clientId, clientSecret: callerSecret, token };
    const introspection = await failure(
      introspectToken({ ...caller, introspectionEndpoint: `${stub.origin}/i` }),
    );
    expect(introspection).toBeInstanceOf(OAuthError);
    expectClean(introspection, [token, callerSecret]);
    const revocation = await failure(
      revokeToken({ ...caller, revocationEndpoint: `${stub.origin}/r` }),
    );
    expect(revocation).toBeInstanceOf(OAuthError);
    expectClean(revocation, [token, callerSecret]);

    stub.handle((_q, r) => sendJson(r, 200, { active: 'yes', sub: token }));
    const protocol = await failure(
      introspectToken({ ...caller, introspectionEndpoint: `${stub.origin}/i` }),
    );
    expect(protocol).toBeInstanceOf(ProtocolError);
    expectClean(protocol, [token, callerSecret]);

    const wrongSecret = await failure(
      introspectToken({ ...caller, clientSecret: 'n0t:it%', issuer: idp.issuer }),
    );
    expect(wrongSecret).toBeInstanceOf(OAuthError);
    expectClean(wrongSecret, [token, 'n0t:it%']);
  });

  it('keeps the client secret out of TypeErrors about bad options', () => {
    let error: unknown;
    try {
      createAuthClient({ ...basic(), clientAuth: 'bogus' as 'client_secret_basic' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expectClean(error, [secret]);
  });

  it('keeps the secret and private keys out of util.inspect of a client', async () => {
    const dpop = await generateKeyPair('ES256', { extractable: true });
    const dpopPrivate = await exportJWK(dpop.privateKey);
    const clients = [
      createAuthClient(basic({ dpop: true })),
      createAuthClient({
        issuer: idp.issuer,
        clientId: CLIENTS.privateKeyJwt.clientId,
        clientAuth: 'private_key_jwt',
        privateKey: CLIENTS.privateKeyJwt.privateJwk,
        dpop: { privateKey: dpopPrivate, publicKey: await exportJWK(dpop.publicKey) },
      }),
    ];
    const [secretClient, keyClient] = clients;
    const token = await secretClient?.getAccessToken();
    await keyClient?.getToken();
    for (const client of clients) {
      for (const rendering of [
        inspect(client, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- what String() shows is what is checked
        String(client),
        JSON.stringify(client) ?? '',
      ]) {
        expect(rendering).not.toContain(secret);
        expect(rendering).not.toContain(privateD);
        expect(rendering).not.toContain(String(dpopPrivate.d));
        expect(rendering).not.toContain(String(token));
      }
    }
  });
});

describe('an IdP that echoes the whole request into its error answer', () => {
  /** Secrets with every character that encodes differently somewhere: + / = % space, non-ASCII. */
  const trickySecret = 'Sé cret+/=%25 ü€😀"x';
  const trickyId = 'svc one+é';

  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  const form = (text: string) => new URLSearchParams({ v: text }).toString().slice(2);

  /** Every form a value takes on the way out and back that must not appear in an error. */
  function encodings(value: string, id?: string): string[] {
    const out = [
      value,
      form(value),
      form(value).toLowerCase(),
      encodeURIComponent(value),
      b64(value),
      b64url(value),
      b64(form(value)),
      JSON.stringify(value).slice(1, -1),
    ];
    if (id !== undefined) {
      out.push(
        b64(`${form(id)}:${form(value)}`),
        b64(`${id}:${value}`),
        b64url(`${id}:${value}`),
        `${form(id)}:${form(value)}`,
      );
    }
    return out;
  }

  /** The members of a form body that carry credentials or tokens, as the server decoded them. */
  const credentialMembers = (q: ReceivedRequest) => {
    const params = new URLSearchParams(q.body);
    return ['client_secret', 'client_assertion', 'token'].flatMap((name) => params.getAll(name));
  };

  /** How the echoing server writes the request back: one echo per answer, so none is cut short. */
  const echoes: [string, (request: ReceivedRequest) => string][] = [
    ['the raw headers', (q) => JSON.stringify(q.headers)],
    ['the raw body', (q) => q.body],
    ['the credential members of the body', (q) => credentialMembers(q).join(' ')],
    [
      'the credential members of the body base64-encoded',
      (q) => credentialMembers(q).map(b64).join(' '),
    ],
    ['the body form-decoded', (q) => [...new URLSearchParams(q.body).values()].join(' ')],
    ['the body as JSON', (q) => JSON.stringify(Object.fromEntries(new URLSearchParams(q.body)))],
    [
      'the body URI-encoded',
      (q) => [...new URLSearchParams(q.body).values()].map(encodeURIComponent).join(' '),
    ],
    [
      'the body values base64url-encoded',
      (q) => [...new URLSearchParams(q.body).values()].map(b64url).join(' '),
    ],
    [
      'the Basic credential decoded',
      (q) => Buffer.from((q.headers.authorization ?? '').slice(6), 'base64').toString(),
    ],
    [
      'the Basic credential decoded and form-decoded',
      (q) =>
        Buffer.from((q.headers.authorization ?? '').slice(6), 'base64')
          .toString()
          .split(':')
          .map((part) => new URLSearchParams(`v=${part}`).get('v'))
          .join(':'),
    ],
    [
      'the Basic pair re-encoded without form encoding',
      (q) => {
        const [id = '', secret = ''] = Buffer.from(
          (q.headers.authorization ?? '').slice(6),
          'base64',
        )
          .toString()
          .split(':')
          .map((part) => new URLSearchParams(`v=${part}`).get('v') ?? '');
        return b64(`${id}:${secret}`);
      },
    ],
    ['the DPoP proof', (q) => String(q.headers.dpop ?? '')],
    [
      'the signatures of the JWTs it received',
      (q) =>
        [new URLSearchParams(q.body).get('client_assertion'), q.headers.dpop]
          .map((jwt) => String(jwt ?? '').split('.')[2] ?? '')
          .join(' '),
    ],
  ];

  function echoWith(echo: (request: ReceivedRequest) => string, status = 401) {
    stub.handle((request, response) =>
      sendJson(response, status, {
        error: `invalid_client ${echo(request).slice(0, 40)}`,
        error_description: `we saw ${echo(request)}`,
        error_uri: `https://idp.example.test/errors?seen=${encodeURIComponent(echo(request))}`,
      }),
    );
  }

  function renderings(error: Error): string[] {
    const out = [
      String(error),
      error.message,
      error.stack ?? '',
      inspect(error, { depth: Number.POSITIVE_INFINITY }),
      inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      JSON.stringify(error),
      JSON.stringify(error.cause ?? null),
      // eslint-disable-next-line @typescript-eslint/no-misused-spread -- the own fields are what is checked
      JSON.stringify({ ...error }),
    ];
    if (error instanceof OAuthError) out.push(error.code, String(error.description));
    return out;
  }

  function expectNone(error: unknown, forbidden: string[]) {
    expect(error).toBeInstanceOf(OAuthError);
    for (const rendering of renderings(error as Error)) {
      for (const value of forbidden) expect(rendering).not.toContain(value);
    }
  }

  /** The last request the stub received, as the form the SDK posted. */
  const lastForm = () => new URLSearchParams(stub.requests.at(-1)?.body ?? '');

  it.each(echoes)(
    'keeps a client_secret_basic secret out when it echoes %s',
    async (_name, echo) => {
      echoWith(echo);
      const error = await failure(
        stubClient({ clientId: trickyId, clientSecret: trickySecret, retry: false }).getToken(),
      );
      expectNone(error, encodings(trickySecret, trickyId));
    },
  );

  it.each(echoes)(
    'keeps a client_secret_post secret out when it echoes %s',
    async (_name, echo) => {
      echoWith(echo);
      const error = await failure(
        stubClient({
          clientId: trickyId,
          clientSecret: trickySecret,
          clientAuth: 'client_secret_post',
          retry: false,
        }).getToken(),
      );
      expectNone(error, encodings(trickySecret));
    },
  );

  it.each(echoes)(
    'keeps the private_key_jwt assertion out when it echoes %s',
    async (_name, echo) => {
      echoWith(echo, 400);
      const error = await failure(
        createAuthClient({
          tokenEndpoint: `${stub.origin}/token`,
          clientId: CLIENTS.privateKeyJwt.clientId,
          clientAuth: 'private_key_jwt',
          privateKey: CLIENTS.privateKeyJwt.privateJwk,
          retry: false,
        }).getToken(),
      );
      const assertion = lastForm().get('client_assertion') ?? '';
      expect(assertion.split('.')).toHaveLength(3);
      expectNone(error, [
        ...encodings(assertion),
        ...encodings(assertion.split('.')[2] ?? ''),
        String(CLIENTS.privateKeyJwt.privateJwk.d),
      ]);
    },
  );

  it.each(echoes)('keeps the DPoP proof out when it echoes %s', async (_name, echo) => {
    echoWith(echo, 400);
    const error = await failure(
      stubClient({ clientSecret: trickySecret, dpop: true, retry: false }).getToken(),
    );
    const proof = String(stub.requests.at(-1)?.headers.dpop ?? '');
    expect(proof.split('.')).toHaveLength(3);
    expectNone(error, [
      ...encodings(proof),
      ...encodings(proof.split('.')[2] ?? ''),
      ...encodings(trickySecret),
    ]);
  });

  it.each(echoes)(
    'keeps the caller secret and the token out of introspection and revocation errors when it echoes %s',
    async (_name, echo) => {
      echoWith(echo, 400);
      const token = `opaque+token/${'é'.repeat(3)}=value`;
      for (const clientAuth of ['client_secret_basic', 'client_secret_post'] as const) {
        const caller = { clientId: trickyId, clientSecret: trickySecret, token, clientAuth };
        const forbidden = [...encodings(trickySecret, trickyId), ...encodings(token)];
        expectNone(
          await failure(introspectToken({ ...caller, introspectionEndpoint: `${stub.origin}/i` })),
          forbidden,
        );
        expectNone(
          await failure(revokeToken({ ...caller, revocationEndpoint: `${stub.origin}/r` })),
          forbidden,
        );
      }
    },
  );
});
