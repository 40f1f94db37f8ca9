import { describe, expect, it } from 'vitest';
import { createResourceServer, TokenError } from '../../../src/server.js';
import { createDpopKey } from '../../../src/runtime/dpop/dpop-key.js';
import { createTestIssuer } from '../../../src/runtime/testing/test-issuer.js';

const audience = 'https://orders.test';

function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe('createTestIssuer', () => {
  it('mints RFC 9068 access tokens that a resource server verifies through its fetch alone', async () => {
    const idp = await createTestIssuer({ audience });
    const server = createResourceServer({ issuer: idp.issuer, audience, fetch: idp.fetch });
    const token = await idp.mintAccessToken({ scope: 'orders:read' });
    const claims = await server.verifyToken(token, { requiredScopes: ['orders:read'] });
    expect(claims).toMatchObject({
      iss: 'https://issuer.test',
      aud: audience,
      sub: 'test-client',
      client_id: 'test-client',
      scope: 'orders:read',
    });
    expect(typeof claims.jti).toBe('string');
    expect(decodePart(token, 0)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(idp.requests.get('/jwks')).toBe(1);
  });

  it.each(['RS256', 'PS256', 'EdDSA'] as const)('signs with %s when asked', async (alg) => {
    const idp = await createTestIssuer({ audience, alg });
    const server = createResourceServer({ issuer: idp.issuer, audience, fetch: idp.fetch });
    const token = await idp.mintAccessToken();
    expect(decodePart(token, 0).alg).toBe(alg);
    await expect(server.verifyToken(token)).resolves.toMatchObject({ sub: 'test-client' });
  });

  it('serves both discovery documents for an issuer with a path, and 404 for anything else', async () => {
    const idp = await createTestIssuer({ issuer: 'https://idp.test/realms/orders' });
    const rfc8414 = await idp.fetch(
      new Request('https://idp.test/.well-known/oauth-authorization-server/realms/orders'),
    );
    const openid = await idp.fetch(
      new Request('https://idp.test/realms/orders/.well-known/openid-configuration'),
    );
    expect(await rfc8414.json()).toMatchObject({
      issuer: 'https://idp.test/realms/orders',
      jwks_uri: 'https://idp.test/realms/orders/jwks',
    });
    expect((await openid.json()) as unknown).toMatchObject({
      issuer: 'https://idp.test/realms/orders',
    });
    expect((await idp.fetch(new Request('https://idp.test/elsewhere'))).status).toBe(404);
    expect(
      (
        await idp.fetch(
          new Request('https://idp.test/realms/orders/jwks', { method: 'POST', body: '' }),
        )
      ).status,
    ).toBe(404);
  });

  it('binds a token to its DPoP key, and its proofs pass verifyRequest', async () => {
    const idp = await createTestIssuer({ audience });
    const server = createResourceServer({ issuer: idp.issuer, audience, fetch: idp.fetch });
    const token = await idp.mintAccessToken({ scope: 'orders:read' }, { dpop: true });
    const url = 'https://orders.test/orders/42';
    const proof = await idp.createDpopProof({ htm: 'GET', htu: url, accessToken: token });
    const claims = await server.verifyRequest({
      method: 'GET',
      url,
      headers: { authorization: `DPoP ${token}`, dpop: proof },
    });
    expect((claims.cnf as { jkt: string }).jkt).toBe(await idp.dpopKey.thumbprint());
  });

  it('binds to a key of the caller’s own, and a proof by another key is refused', async () => {
    const idp = await createTestIssuer({ audience });
    const server = createResourceServer({ issuer: idp.issuer, audience, fetch: idp.fetch });
    const mine = createDpopKey();
    const token = await idp.mintAccessToken({}, { dpop: mine });
    const url = 'https://orders.test/orders/42';
    const wrong = await idp.createDpopProof({ htm: 'GET', htu: url, accessToken: token });
    const error = await server
      .verifyRequest({
        method: 'GET',
        url,
        headers: { authorization: `DPoP ${token}`, dpop: wrong },
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenError);
    expect((error as TokenError).reason).toBe('dpop');
    const right = await mine.buildDpopProof({ htm: 'GET', htu: url, accessToken: token });
    await expect(
      server.verifyRequest({
        method: 'GET',
        url,
        headers: { authorization: `DPoP ${token}`, dpop: right },
      }),
    ).resolves.toMatchObject({ cnf: { jkt: await mine.thumbprint() } });
  });

  it('leaves out a claim given as undefined, and honours exp, typ and header overrides', async () => {
    const idp = await createTestIssuer({ audience });
    const token = await idp.mintAccessToken(
      { sub: undefined, exp: 1 },
      { typ: null, header: { kid: 'elsewhere' } },
    );
    const header = decodePart(token, 0);
    const payload = decodePart(token, 1);
    expect('typ' in header).toBe(false);
    expect(header.kid).toBe('elsewhere');
    expect('sub' in payload).toBe(false);
    expect(payload.exp).toBe(1);
  });

  it('mints on the injected clock', async () => {
    const idp = await createTestIssuer({ now: () => new Date('2030-01-01T00:00:00Z') });
    const payload = decodePart(await idp.mintAccessToken({}, { expiresInSeconds: 60 }), 1);
    expect(payload.iat).toBe(1_893_456_000);
    expect(payload.exp).toBe(1_893_456_060);
  });

  it('rotates its key: old tokens stop verifying for a server that refetches, new ones verify', async () => {
    const idp = await createTestIssuer({ audience });
    const before = await idp.mintAccessToken();
    const kidBefore = decodePart(before, 0).kid;
    await idp.rotateKey();
    const after = await idp.mintAccessToken();
    expect(decodePart(after, 0).kid).not.toBe(kidBefore);
    const server = createResourceServer({ issuer: idp.issuer, audience, fetch: idp.fetch });
    await expect(server.verifyToken(after)).resolves.toMatchObject({ sub: 'test-client' });
    const error = await server.verifyToken(before).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenError);
  });

  it('refuses an unknown option and an issuer that is not a URL', async () => {
    await expect(createTestIssuer({ issuer: 'not a url' })).rejects.toThrow(TypeError);
    await expect(createTestIssuer({ audiences: 'x' } as never)).rejects.toThrow(
      /unknown option `audiences`/,
    );
  });
});
