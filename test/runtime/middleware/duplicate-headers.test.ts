/**
 * A credential header sent twice, on real servers on 127.0.0.1: Hono, Express, Fastify and the
 * README's plain node:http wiring (`requestFromNode`). Node's `req.headers` keeps only the first
 * `Authorization` line, so a valid token followed by a second `Authorization` line used to pass
 * on Express, Fastify and node:http. The requests are written to the socket by hand: `fetch`
 * folds repeated lines into one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient, createResourceServer, type AuthClient } from '../../../src/index.js';
import { CLIENTS, RESOURCES, startIdp, type TestIdp } from '../../support/idp.js';
import { frameworks, startNodeHttp, type RunningApi } from './support/frameworks.js';
import { rawRequest, type RawAnswer } from './support/raw-http.js';

let idp: TestIdp;
let bearerToken: string;
let dpop: AuthClient;

beforeAll(async () => {
  idp = await startIdp();
  bearerToken = await createAuthClient({
    issuer: idp.issuer,
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    scope: 'orders:read',
    resource: RESOURCES.jwt,
  }).getAccessToken();
  dpop = createAuthClient({
    issuer: idp.issuer,
    clientId: CLIENTS.dpopOnly.clientId,
    clientSecret: CLIENTS.dpopOnly.clientSecret,
    scope: 'orders:read',
    resource: RESOURCES.jwt,
    dpop: true,
  });
});

afterAll(async () => {
  await idp.close();
});

const servers = {
  ...frameworks,
  'node:http': (options: { resourceServer: Parameters<typeof startNodeHttp>[0] }) =>
    startNodeHttp(options.resourceServer),
};

const duplicateAuthorization = {
  status: 400,
  wwwAuthenticate:
    'Bearer error="invalid_request", error_description="the request carries more than one Authorization credential"',
  body: {
    error: 'invalid_request',
    error_description: 'the request carries more than one Authorization credential',
  },
};

function summary(answer: RawAnswer) {
  return {
    status: answer.status,
    wwwAuthenticate: answer.headers['www-authenticate'],
    body: JSON.parse(answer.body) as unknown,
  };
}

describe.each(Object.keys(servers) as (keyof typeof servers)[])('%s', (name) => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await servers[name]({
      resourceServer: createResourceServer({ issuer: idp.issuer, audience: RESOURCES.jwt }),
    });
  });
  afterAll(() => api.close());

  async function refused(lines: readonly (readonly [string, string])[]) {
    const before = api.seen.length;
    const answer = await rawRequest(api.origin, '/api/orders/42', lines);
    expect(api.seen.length, 'the handler ran for a refused request').toBe(before);
    return summary(answer);
  }

  it('lets one Authorization line with a valid token through (the control)', async () => {
    const answer = await rawRequest(api.origin, '/api/orders/42', [
      ['Authorization', `Bearer ${bearerToken}`],
    ]);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ client_id: CLIENTS.basic.clientId });
  });

  it('refuses a valid Authorization line followed by a second one with 400 invalid_request', async () => {
    expect(
      await refused([
        ['Authorization', `Bearer ${bearerToken}`],
        ['Authorization', 'Bearer forged-second-token'],
      ]),
    ).toEqual(duplicateAuthorization);
  });

  it('refuses a junk Authorization line followed by a valid one in the same way', async () => {
    expect(
      await refused([
        ['Authorization', 'Basic dXNlcjpwYXNz'],
        ['Authorization', `Bearer ${bearerToken}`],
      ]),
    ).toEqual(duplicateAuthorization);
  });

  it('refuses two Authorization lines spelt in different case, both with the valid token', async () => {
    expect(
      await refused([
        ['authorization', `Bearer ${bearerToken}`],
        ['AUTHORIZATION', `Bearer ${bearerToken}`],
      ]),
    ).toEqual(duplicateAuthorization);
  });

  it('refuses a DPoP-bound call with two DPoP lines, both valid proofs, with 401 invalid_dpop_proof', async () => {
    const token = await dpop.getAccessToken();
    const htu = `${api.origin}/api/orders/42`;
    const first = await dpop.buildDpopProof({ htm: 'GET', htu, accessToken: token });
    const second = await dpop.buildDpopProof({ htm: 'GET', htu, accessToken: token });
    const answer = await refused([
      ['Authorization', `DPoP ${token}`],
      ['DPoP', first],
      ['dpop', second],
    ]);
    expect(answer.status).toBe(401);
    expect(answer.wwwAuthenticate).toMatch(
      /^DPoP error="invalid_dpop_proof", error_description="the request carries more than one DPoP proof", algs="[A-Za-z0-9 ]+"$/,
    );
    expect(answer.body).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'the request carries more than one DPoP proof',
    });

    // The same call with one proof passes, so the refusal was for the second line alone.
    const third = await dpop.buildDpopProof({ htm: 'GET', htu, accessToken: token });
    const single = await rawRequest(api.origin, '/api/orders/42', [
      ['Authorization', `DPoP ${token}`],
      ['DPoP', third],
    ]);
    expect(single.status).toBe(200);
  });
});
