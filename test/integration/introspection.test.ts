/**
 * introspectToken (RFC 7662) and revokeToken (RFC 7009) against a real authorization server.
 * Opaque tokens come from the IdP's opaque resource: JWT access tokens cannot be introspected
 * or revoked there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  createAuthClient,
  introspectToken,
  NetworkError,
  OAuthError,
  ProtocolError,
  revokeToken,
  type IntrospectTokenOptions,
  type RevokeTokenOptions,
} from '../../src/index.js';
import {
  closedPort,
  recordingFetch,
  sendJson,
  sendText,
  startServer,
  type TestServer,
} from '../support/http.js';
import { CLIENTS, mintAccessToken, RESOURCES, startIdp, type TestIdp } from '../support/idp.js';
import { collectGarbage, settleWithin, sleep } from '../support/timing.js';

let idp: TestIdp;
let stub: TestServer;

beforeAll(async () => {
  idp = await startIdp();
  stub = await startServer((_request, response) => sendJson(response, 500, {}));
});

afterAll(async () => {
  await Promise.all([idp.close(), stub.close()]);
});

const discoveryRequests = () =>
  idp.count('/.well-known/oauth-authorization-server') +
  idp.count('/.well-known/openid-configuration');

/** The resource server's own credentials, for its calls to introspection and revocation. */
type CallerOptions = IntrospectTokenOptions & RevokeTokenOptions;
function caller(token: string, overrides: Partial<CallerOptions> = {}): CallerOptions {
  return {
    issuer: idp.issuer,
    clientId: CLIENTS.resourceServer.clientId,
    clientSecret: CLIENTS.resourceServer.clientSecret,
    token,
    ...overrides,
  };
}

const opaqueToken = () =>
  mintAccessToken(idp, { resource: RESOURCES.opaque, scope: 'ledger:read' });

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

describe('introspectToken', () => {
  it('reports an active opaque token with its claims', async () => {
    const token = await opaqueToken();
    const result = await introspectToken(caller(token));
    expect(result).toMatchObject({
      active: true,
      client_id: CLIENTS.basic.clientId,
      scope: 'ledger:read',
      aud: RESOURCES.opaque,
      iss: idp.issuer,
      token_type: 'Bearer',
    });
    expect(result.exp).toEqual(expect.any(Number));
    expect(result.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it('keeps members the IdP adds beyond RFC 7662 (cnf of a DPoP-bound token)', async () => {
    const client = createAuthClient({
      issuer: idp.issuer,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      resource: RESOURCES.opaque,
      scope: 'ledger:read',
      dpop: true,
    });
    const token = await client.getToken();
    expect(token.token_type).toBe('DPoP');
    const result = await introspectToken(caller(token.access_token));
    expect(result).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: expect.any(String) },
    });
  });

  it('answers { active: false } for a token the IdP never issued, without throwing', async () => {
    const result = await introspectToken(caller('this-token-was-never-issued'));
    expect(result).toEqual({ active: false });
  });

  it('sends the token_type_hint when given', async () => {
    const recorder = recordingFetch();
    const token = await opaqueToken();
    const result = await introspectToken(
      caller(token, { tokenTypeHint: 'access_token', fetch: recorder.fetch }),
    );
    expect(result.active).toBe(true);
    const [form] = recorder.forms('/token/introspection');
    expect(form?.get('token')).toBe(token);
    expect(form?.get('token_type_hint')).toBe('access_token');
  });

  it('throws OAuthError invalid_client when the IdP rejects the caller', async () => {
    const token = await opaqueToken();
    const error = await failure(introspectToken(caller(token, { clientSecret: 'wrong-secret' })));
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
  });

  it('throws NetworkError when the IdP cannot be reached (discovery or explicit endpoint)', async () => {
    const port = await closedPort();
    const viaIssuer = await failure(
      introspectToken(caller('t', { issuer: `http://127.0.0.1:${port}` })),
    );
    expect(viaIssuer).toBeInstanceOf(NetworkError);
    const viaEndpoint = await failure(
      introspectToken(
        caller('t', { issuer: undefined, introspectionEndpoint: `http://127.0.0.1:${port}/i` }),
      ),
    );
    expect(viaEndpoint).toBeInstanceOf(NetworkError);
  });

  it('throws NetworkError after timeoutMs when the IdP never answers', async () => {
    stub.handle(() => {
      // Never answer.
    });
    const options = caller('t', {
      issuer: undefined,
      introspectionEndpoint: `${stub.origin}/i`,
      timeoutMs: 200,
    });
    expect(await settleWithin(introspectToken(options), 3_000)).toBeInstanceOf(NetworkError);
  });

  it('still times out when the garbage collector runs while the request waits', async () => {
    stub.handle(() => {
      // Never answer.
    });
    const options = caller('t', {
      issuer: undefined,
      introspectionEndpoint: `${stub.origin}/i`,
      timeoutMs: 200,
    });
    const pending = introspectToken(options);
    await sleep(50);
    collectGarbage();
    expect(await settleWithin(pending, 3_000)).toBeInstanceOf(NetworkError);
  });

  it('skips discovery when introspectionEndpoint is given', async () => {
    const token = await opaqueToken();
    const recorder = recordingFetch();
    const before = discoveryRequests();
    const result = await introspectToken(
      caller(token, {
        issuer: undefined,
        introspectionEndpoint: idp.endpoints.introspection,
        fetch: recorder.fetch,
      }),
    );
    expect(result.active).toBe(true);
    expect(discoveryRequests()).toBe(before);
    expect(recorder.sent.map((r) => `${r.method} ${r.url}`)).toEqual([
      `POST ${idp.endpoints.introspection}`,
    ]);
  });

  it('finds the introspection endpoint through discovery when only the issuer is given', async () => {
    const token = await opaqueToken();
    const recorder = recordingFetch();
    await introspectToken(caller(token, { fetch: recorder.fetch }));
    expect(recorder.sent.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${idp.issuer}/.well-known/oauth-authorization-server`,
      `POST ${idp.endpoints.introspection}`,
    ]);
  });

  it('throws ProtocolError for a 200 that is not an RFC 7662 answer', async () => {
    const endpoint = { issuer: undefined, introspectionEndpoint: `${stub.origin}/i` };
    stub.handle((_q, r) => sendText(r, 200, 'active=true'));
    expect(await failure(introspectToken(caller('t', endpoint)))).toBeInstanceOf(ProtocolError);
    stub.handle((_q, r) => sendJson(r, 200, { scope: 'ledger:read' }));
    expect(await failure(introspectToken(caller('t', endpoint)))).toBeInstanceOf(ProtocolError);
    stub.handle((_q, r) => sendJson(r, 200, { active: 'true' }));
    expect(await failure(introspectToken(caller('t', endpoint)))).toBeInstanceOf(ProtocolError);
  });

  it('rejects bad options with a TypeError', async () => {
    await expect(introspectToken(caller(''))).rejects.toThrow(TypeError);
    await expect(introspectToken(caller('t', { clientId: '' }))).rejects.toThrow(TypeError);
    await expect(
      introspectToken(caller('t', { clientSecret: undefined as unknown as string })),
    ).rejects.toThrow(TypeError);
    await expect(introspectToken(caller('t', { issuer: undefined }))).rejects.toThrow(TypeError);
  });
});

describe('revokeToken', () => {
  it('revokes a token so that it introspects as inactive', async () => {
    const token = await opaqueToken();
    expect((await introspectToken(caller(token))).active).toBe(true);
    await revokeToken({
      issuer: idp.issuer,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      token,
      tokenTypeHint: 'access_token',
    });
    expect(idp.count('/token/revocation', 'POST')).toBeGreaterThan(0);
    expect(await introspectToken(caller(token))).toEqual({ active: false });
  });

  it('resolves for a token the IdP does not know (RFC 7009 §2.2)', async () => {
    await expect(revokeToken(caller('this-token-was-never-issued'))).resolves.toBeUndefined();
  });

  it('skips discovery when revocationEndpoint is given', async () => {
    const token = await opaqueToken();
    const recorder = recordingFetch();
    const before = discoveryRequests();
    await revokeToken({
      revocationEndpoint: idp.endpoints.revocation,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      token,
      fetch: recorder.fetch,
    });
    expect(discoveryRequests()).toBe(before);
    expect(recorder.sent.map((r) => `${r.method} ${r.url}`)).toEqual([
      `POST ${idp.endpoints.revocation}`,
    ]);
    expect((await introspectToken(caller(token))).active).toBe(false);
  });

  it('throws OAuthError invalid_client when the IdP rejects the caller', async () => {
    const token = await opaqueToken();
    const error = await failure(revokeToken(caller(token, { clientSecret: 'wrong-secret' })));
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expect((await introspectToken(caller(token))).active).toBe(true);
  });

  it('throws OAuthError unsupported_token_type for a JWT access token the IdP cannot revoke', async () => {
    const jwt = await mintAccessToken(idp, { resource: RESOURCES.jwt, scope: 'orders:read' });
    const error = await failure(revokeToken(caller(jwt)));
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'unsupported_token_type', status: 400 });
  });

  it('throws NetworkError when the IdP cannot be reached', async () => {
    const port = await closedPort();
    const error = await failure(
      revokeToken(
        caller('t', { issuer: undefined, revocationEndpoint: `http://127.0.0.1:${port}/revoke` }),
      ),
    );
    expect(error).toBeInstanceOf(NetworkError);
  });
});
