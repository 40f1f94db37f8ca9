/**
 * introspectToken and revokeToken against glewlwyd on 127.0.0.1 (RFC 7662, RFC 7009). glewlwyd
 * keeps a record of every JWT access token it issues, so its self-contained tokens can be
 * introspected and revoked, and a Basic-authenticated caller sees only its own tokens.
 */
import { inspect } from 'node:util';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createResourceServer,
  introspectToken,
  OAuthError,
  revokeToken,
  type IntrospectTokenOptions,
} from '../../../src/index.js';
import {
  GLEWLWYD_RESOURCES,
  GLEWLWYD_SCOPES,
  basicToken,
  glewlwydForFile,
  postCredentials,
} from '../../support/glewlwyd.js';
import { rejectionOf } from '../../support/caught.js';

const idp = glewlwydForFile();

const { ordersRead } = GLEWLWYD_SCOPES;
const orders = GLEWLWYD_RESOURCES.orders;

/** The resource server asks, authenticated with client_secret_post (which sees every token). */
function asResourceServer(token: string, overrides: Partial<IntrospectTokenOptions> = {}) {
  return { issuer: idp.issuer, ...postCredentials(idp), token, ...overrides };
}

const failure = (promise: Promise<unknown>) => rejectionOf(promise, OAuthError);

describe('introspection', () => {
  it('reports a fresh token active, with the claims of the JWT', async () => {
    const token = await basicToken(idp);
    const jwt = decodeJwt(token);
    const result = await introspectToken(asResourceServer(token));
    expect(result).toEqual({
      active: true,
      scope: ordersRead,
      client_id: idp.clients.basic.clientId,
      token_type: 'bearer',
      aud: orders,
      exp: jwt.exp,
      iat: jwt.iat,
      nbf: jwt.nbf,
      jti: jwt.jti,
    });
  });

  it('reports a DPoP-bound token with token_type DPoP and its cnf.jkt', async () => {
    const token = await createAuthClient({
      issuer: idp.issuer,
      ...idp.clients.dpop,
      dpop: true,
      scope: ordersRead,
    }).getAccessToken();
    const result = await introspectToken(
      asResourceServer(token, { tokenTypeHint: 'access_token' }),
    );
    expect(result).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: (decodeJwt(token).cnf as { jkt: string }).jkt },
    });
  });

  it('reports a token it never issued inactive', async () => {
    await expect(introspectToken(asResourceServer('not-a-token'))).resolves.toEqual({
      active: false,
    });
    const foreign = `${(await basicToken(idp)).slice(0, -4)}AAAA`;
    await expect(introspectToken(asResourceServer(foreign))).resolves.toEqual({ active: false });
  });

  it("shows a Basic-authenticated caller only its own tokens: another client's is inactive", async () => {
    const token = await basicToken(idp);
    const basic = { ...asResourceServer(token), clientAuth: 'client_secret_basic' as const };
    await expect(introspectToken(basic)).resolves.toEqual({ active: false });
    await expect(introspectToken({ ...basic, ...idp.clients.basic })).resolves.toMatchObject({
      active: true,
      client_id: idp.clients.basic.clientId,
    });
  });

  it('refuses bad credentials with a typed OAuthError from a bodiless 401', async () => {
    const wrong = 'not-the-secret-at-all';
    const token = await basicToken(idp);
    for (const clientAuth of ['client_secret_basic', 'client_secret_post'] as const) {
      const error = await failure(
        introspectToken(asResourceServer(token, { clientAuth, clientSecret: wrong })),
      );
      expect(error).toMatchObject({ status: 401, code: 'invalid_client' });
      for (const leak of [wrong, token]) expect(inspect(error, { depth: 5 })).not.toContain(leak);
    }
  });
});

describe('revocation', () => {
  it('revokes a token: introspection says inactive, local verification still accepts it until exp', async () => {
    const token = await basicToken(idp);
    await expect(introspectToken(asResourceServer(token))).resolves.toMatchObject({ active: true });
    await revokeToken({ ...asResourceServer(token), tokenTypeHint: 'access_token' });
    await expect(introspectToken(asResourceServer(token))).resolves.toEqual({ active: false });
    // The JWT is self-contained: only introspection sees the revocation.
    const claims = await createResourceServer({ issuer: idp.issuer, audience: orders }).verifyToken(
      token,
    );
    expect(claims.jti).toBe(decodeJwt(token).jti);
  });

  it('answers 200 for a token already revoked and for one it never issued', async () => {
    const token = await basicToken(idp);
    await revokeToken(asResourceServer(token));
    await expect(revokeToken(asResourceServer(token))).resolves.toBeUndefined();
    await expect(revokeToken(asResourceServer('not-a-token'))).resolves.toBeUndefined();
  });

  it("answers 200 to a Basic-authenticated revocation of another client's token, and revokes nothing", async () => {
    const token = await basicToken(idp);
    await revokeToken({ ...asResourceServer(token), clientAuth: 'client_secret_basic' });
    await expect(introspectToken(asResourceServer(token))).resolves.toMatchObject({ active: true });
    // The owner can.
    await revokeToken({
      ...asResourceServer(token),
      ...idp.clients.basic,
      clientAuth: 'client_secret_basic',
    });
    await expect(introspectToken(asResourceServer(token))).resolves.toEqual({ active: false });
  });

  it('refuses bad credentials with a typed OAuthError', async () => {
    const error = await failure(
      revokeToken(
        asResourceServer(await basicToken(idp), { clientSecret: 'not-the-secret-at-all' }),
      ),
    );
    expect(error).toMatchObject({ status: 401, code: 'invalid_client' });
  });
});
