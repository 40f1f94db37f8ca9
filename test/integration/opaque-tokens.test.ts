/**
 * A resource server verifying opaque access tokens by introspection (RFC 7662) against a real
 * authorization server (oidc-provider): active, revoked and unknown tokens, the cache and its
 * bounds, audience and scope checks, DPoP-bound opaque tokens, and an IdP that is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createResourceServer,
  NetworkError,
  OAuthError,
  revokeToken,
  TokenError,
  type ResourceServerEvent,
  type ResourceServerOptions,
} from '../../src/index.js';
import { manualClock, type ManualClock } from '../support/clock.js';
import { closedPort } from '../support/http.js';
import { CLIENTS, mintAccessToken, RESOURCES, startIdp, type TestIdp } from '../support/idp.js';

/** Opaque tokens that live 40 s: with a 30 s tolerance, their answers may be reused for 10 s. */
const SHORT_LIVED = 'https://short.example.test/';

let idp: TestIdp;

beforeAll(async () => {
  idp = await startIdp({
    resources: {
      [SHORT_LIVED]: {
        scope: 'ledger:read',
        audience: SHORT_LIVED,
        accessTokenTTL: 40,
        accessTokenFormat: 'opaque',
      },
    },
  });
});

afterAll(async () => {
  await idp.close();
});

const introspections = () => idp.count('/token/introspection', 'POST');
const credentials = {
  clientId: CLIENTS.resourceServer.clientId,
  clientSecret: CLIENTS.resourceServer.clientSecret,
};

interface Setup {
  server: ReturnType<typeof createResourceServer>;
  clock: ManualClock;
  events: ResourceServerEvent[];
}

function resourceServer(
  options: Partial<ResourceServerOptions> = {},
  introspection: Partial<NonNullable<ResourceServerOptions['introspection']>> = {},
): Setup {
  // The IdP keeps real time; this clock starts there and is moved by hand.
  const clock = manualClock(new Date());
  const events: ResourceServerEvent[] = [];
  const server = createResourceServer({
    issuer: idp.issuer,
    audience: RESOURCES.opaque,
    now: clock.now,
    onEvent: (event) => events.push(event),
    introspection: { ...credentials, ...introspection },
    ...options,
  });
  return { server, clock, events };
}

const opaqueToken = (resource: string = RESOURCES.opaque) =>
  mintAccessToken(idp, { resource, scope: 'ledger:read' });

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError);
    return error as TokenError;
  }
  throw new Error('expected a TokenError, but the call resolved');
}

describe('opaque tokens from a real authorization server', () => {
  it('verifies an active opaque token and returns the claims of its introspection', async () => {
    const { server } = resourceServer();
    const token = await opaqueToken();
    expect(token).not.toContain('.');
    const claims = await server.verifyToken(token, { requiredScopes: 'ledger:read' });
    expect(claims).toMatchObject({
      iss: idp.issuer,
      aud: RESOURCES.opaque,
      client_id: CLIENTS.basic.clientId,
      scope: 'ledger:read',
      token_type: 'Bearer',
      exp: expect.any(Number) as unknown,
    });
    expect(claims).not.toHaveProperty('active');
  });

  it('refuses a token the IdP never issued as inactive', async () => {
    const { server } = resourceServer();
    const error = await rejection(server.verifyToken('this-token-was-never-issued'));
    expect(error).toMatchObject({ reason: 'inactive', status: 401, error: 'invalid_token' });
  });

  it('keeps accepting a revoked token from its cache, and refuses it once cacheMaxSeconds pass', async () => {
    const { server, clock, events } = resourceServer({}, { cacheMaxSeconds: 20 });
    const token = await opaqueToken();
    const before = introspections();
    await server.verifyToken(token);
    await revokeToken({ issuer: idp.issuer, ...credentials, token });
    clock.advance(19);
    await expect(server.verifyToken(token)).resolves.toMatchObject({ scope: 'ledger:read' });
    expect(introspections() - before).toBe(1);
    clock.advance(1);
    expect(await rejection(server.verifyToken(token))).toMatchObject({ reason: 'inactive' });
    expect(introspections() - before).toBe(2);
    expect(events.map((event) => event.type)).toEqual([
      'token_introspected',
      'introspection_cache_hit',
      'token_introspected',
      'verification_failed',
    ]);
  });

  it('reuses an answer no longer than the token exp less the clock tolerance', async () => {
    const { server, clock } = resourceServer(
      { audience: SHORT_LIVED, clockToleranceSeconds: 30 },
      { cacheMaxSeconds: 600 },
    );
    const token = await opaqueToken(SHORT_LIVED);
    const before = introspections();
    const { exp } = await server.verifyToken(token);
    expect(exp - clock.seconds()).toBeLessThanOrEqual(40);
    clock.setSeconds(exp - 31);
    await server.verifyToken(token);
    expect(introspections() - before).toBe(1);
    clock.setSeconds(exp - 30);
    await server.verifyToken(token);
    expect(introspections() - before).toBe(2);
  });

  it('refuses an opaque token for another resource (audience) and one without the scope (403)', async () => {
    const { server } = resourceServer({ audience: RESOURCES.jwt });
    const token = await opaqueToken();
    expect(await rejection(server.verifyToken(token))).toMatchObject({
      reason: 'audience',
      status: 401,
    });
    const right = resourceServer();
    const error = await rejection(
      right.server.verifyToken(token, { requiredScopes: 'ledger:write' }),
    );
    expect(error).toMatchObject({ reason: 'scope', status: 403, error: 'insufficient_scope' });
  });

  it('verifies JWT access tokens from the same IdP locally, asking nothing', async () => {
    const { server } = resourceServer({ audience: RESOURCES.jwt });
    const jwt = await mintAccessToken(idp, { resource: RESOURCES.jwt, scope: 'orders:read' });
    const before = introspections();
    await expect(server.verifyToken(jwt)).resolves.toMatchObject({ aud: RESOURCES.jwt });
    expect(introspections()).toBe(before);
  });
});

describe('DPoP-bound opaque tokens', () => {
  const url = 'https://ledger.example.test/entries/7';

  async function boundToken() {
    const auth = createAuthClient({
      issuer: idp.issuer,
      clientId: CLIENTS.dpopOnly.clientId,
      clientSecret: CLIENTS.dpopOnly.clientSecret,
      resource: RESOURCES.opaque,
      scope: 'ledger:read',
      dpop: true,
    });
    const token = await auth.getToken();
    expect(token.token_type).toBe('DPoP');
    return { auth, token: token.access_token };
  }

  it('verifies the request with its proof, the binding taken from introspection', async () => {
    const { server } = resourceServer();
    const { auth, token } = await boundToken();
    const proof = await auth.buildDpopProof({ htm: 'GET', htu: url, accessToken: token });
    const claims = await server.verifyRequest(
      new Request(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } }),
    );
    expect(claims).toMatchObject({
      client_id: CLIENTS.dpopOnly.clientId,
      token_type: 'DPoP',
      cnf: { jkt: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as unknown },
    });
  });

  it('refuses it sent as Bearer, and with a proof by another key', async () => {
    const { server } = resourceServer();
    const { token } = await boundToken();
    const asBearer = await rejection(
      server.verifyRequest(new Request(url, { headers: { authorization: `Bearer ${token}` } })),
    );
    expect(asBearer).toMatchObject({ reason: 'dpop', status: 401 });
    expect(asBearer.wwwAuthenticate).toMatch(/^DPoP /);
    const stranger = (await boundToken()).auth;
    const proof = await stranger.buildDpopProof({ htm: 'GET', htu: url, accessToken: token });
    const foreign = await rejection(
      server.verifyRequest(
        new Request(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } }),
      ),
    );
    expect(foreign).toMatchObject({ reason: 'dpop', error: 'invalid_dpop_proof' });
  });
});

describe('when the authorization server cannot be asked', () => {
  it('answers 503 with Retry-After while the IdP is down, and verifies once it is back', async () => {
    const own = await startIdp();
    try {
      const { server } = resourceServer({ issuer: own.issuer });
      await own.close();
      const error = await rejection(server.verifyToken('any-opaque-token'));
      expect(error).toMatchObject({ reason: 'introspection', status: 503, retryAfter: 5 });
      expect(error.cause).toBeInstanceOf(NetworkError);
      expect(error.cause).toMatchObject({ code: 'refused' });
      // Back on the same port: the failure was not remembered.
      const back = await startIdp({ port: own.port, keys: own.keys });
      try {
        const token = await mintAccessToken(back, {
          resource: RESOURCES.opaque,
          scope: 'ledger:read',
        });
        await expect(server.verifyToken(token)).resolves.toMatchObject({ iss: own.issuer });
      } finally {
        await back.close();
      }
    } finally {
      await own.close();
    }
  });

  it('answers 503 for an explicit endpoint nothing listens on, never echoing the token', async () => {
    const port = await closedPort();
    const { server } = resourceServer(
      {},
      { introspectionEndpoint: `http://127.0.0.1:${port}/token/introspection` },
    );
    const token = await opaqueToken();
    const error = await rejection(server.verifyToken(token));
    expect(error).toMatchObject({ reason: 'introspection', status: 503, retryAfter: 5 });
    expect(error.cause).toMatchObject({ code: 'refused' });
    expect(String(error)).not.toContain(token);
  });

  it('answers 503 when the IdP refuses the resource server credentials', async () => {
    const { server } = resourceServer({}, { clientSecret: 'not-the-secret' });
    const error = await rejection(server.verifyToken(await opaqueToken()));
    expect(error).toMatchObject({ reason: 'introspection', status: 503 });
    expect(error.cause).toBeInstanceOf(OAuthError);
    expect(error.cause).toMatchObject({ code: 'invalid_client' });
  });
});
