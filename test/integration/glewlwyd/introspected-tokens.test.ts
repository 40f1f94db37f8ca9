/**
 * A resource server that also introspects JWT access tokens (`introspection.jwt: 'always'`)
 * against glewlwyd on 127.0.0.1: glewlwyd keeps a record of every token it issues, so a revoked
 * JWT is refused although its signature still verifies. Its answers name no `iss` and spell
 * `token_type` in lower case; a Basic-authenticated caller sees only its own tokens.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createResourceServer,
  revokeToken,
  TokenError,
  type ResourceServerOptions,
} from '../../../src/index.js';
import {
  GLEWLWYD_RESOURCES,
  GLEWLWYD_SCOPES,
  basicToken,
  glewlwydForFile,
  postCredentials,
} from '../../support/glewlwyd.js';
import { rejectionOf } from '../../support/caught.js';
import { recordingFetch } from '../../support/http.js';

const idp = glewlwydForFile();

const { ordersRead } = GLEWLWYD_SCOPES;
const orders = GLEWLWYD_RESOURCES.orders;

/** Introspecting with client_secret_post, which sees every client's tokens at glewlwyd. */
function resourceServer(overrides: Partial<ResourceServerOptions> = {}) {
  return createResourceServer({
    issuer: idp.issuer,
    audience: orders,
    introspection: {
      ...postCredentials(idp),
      jwt: 'always',
      cacheMaxSeconds: 0,
    },
    ...overrides,
  });
}

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, TokenError);

describe('JWTs introspected as well as verified', () => {
  it('verifies a fresh JWT locally and asks once whether it is active, returning its own claims', async () => {
    const recorder = recordingFetch();
    const token = await basicToken(idp);
    const claims = await resourceServer({ fetch: recorder.fetch }).verifyToken(token);
    expect(claims).toMatchObject({ iss: idp.issuer, jti: decodeJwt(token).jti, scope: ordersRead });
    const asked = recorder.sent
      .map((sent) => new URLSearchParams(sent.body))
      .filter((form) => form.get('token') === token);
    expect(asked).toHaveLength(1);
    expect(asked[0]?.get('token_type_hint')).toBe('access_token');
  });

  it('refuses a revoked JWT as inactive, which local verification alone still accepts', async () => {
    const token = await basicToken(idp);
    await revokeToken({ issuer: idp.issuer, ...postCredentials(idp), token });
    const error = await rejection(resourceServer().verifyToken(token));
    expect(error).toMatchObject({ reason: 'inactive', status: 401, error: 'invalid_token' });
    const local = createResourceServer({ issuer: idp.issuer, audience: orders });
    await expect(local.verifyToken(token)).resolves.toMatchObject({ iss: idp.issuer });
  });

  it("refuses another client's token when introspecting with Basic, which sees only its own", async () => {
    const server = resourceServer({
      introspection: { ...idp.clients.resourceServer, jwt: 'always' },
    });
    expect(await rejection(server.verifyToken(await basicToken(idp)))).toMatchObject({
      reason: 'inactive',
    });
  });

  it('verifies a DPoP-bound JWT through verifyRequest with its proof', async () => {
    const auth = createAuthClient({
      issuer: idp.issuer,
      ...idp.clients.dpop,
      dpop: true,
      scope: ordersRead,
      resource: orders,
    });
    const token = await auth.getAccessToken();
    const url = 'https://orders.example.test/orders/1';
    const proof = await auth.buildDpopProof({ htm: 'GET', htu: url, accessToken: token });
    const claims = await resourceServer().verifyRequest(
      new Request(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } }),
    );
    expect(claims.cnf?.jkt).toBe((decodeJwt(token).cnf as { jkt: string }).jkt);
  });
});
