/**
 * The secretless building blocks against the real test IdP, before a client composes them: an
 * assertion read from a rotating file authenticates a workload-identity client, and a token
 * exchange built and read by the SDK's own steps goes through oidc-provider's grant.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schemas from '../../src/generated/schemas.js';
import { assertionFromFile } from '../../src/runtime/client/assertion-sources.js';
import { createClientAssertionAuthenticator } from '../../src/runtime/client/client-assertion.js';
import { prepareTokenExchange } from '../../src/runtime/client/token-exchange-request.js';
import { readTokenExchangeResponse } from '../../src/runtime/client/token-exchange-response.js';
import { TokenTypes } from '../../src/runtime/client/token-types.js';
import { OAuthError } from '../../src/runtime/errors.js';
import { defaultClock } from '../../src/runtime/shared/options.js';
import { createIdpClient, exchange, type IdpCall } from '../../src/runtime/transport/idp-client.js';
import { parseBody, toOAuthError } from '../../src/runtime/transport/idp-answer.js';
import { basicAuthorization, mintAccessToken } from '../support/idp.js';
import {
  EXCHANGE_AUDIENCES,
  EXCHANGE_CLIENTS,
  startTokenExchangeIdp,
  verifyExchangedToken,
  type TokenExchangeIdp,
} from '../support/token-exchange.js';

let idp: TokenExchangeIdp;
let dir: string;

beforeAll(async () => {
  idp = await startTokenExchangeIdp();
  dir = await mkdtemp(join(tmpdir(), 's2s-auth-workload-'));
});
afterAll(async () => {
  await idp.close();
  await rm(dir, { recursive: true, force: true });
});

function tokenCall(secrets: readonly string[] = []): IdpCall {
  return {
    client: createIdpClient((request) => fetch(request)),
    url: idp.endpoints.token,
    endpoint: 'token endpoint',
    timeoutMs: 5000,
    secrets,
  };
}

async function post(call: IdpCall, body: Record<string, unknown>, headers: Record<string, string>) {
  return exchange(call, (middleware) =>
    call.client.POST('/token', {
      body: body as never,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      parseAs: 'text',
      middleware,
    }),
  );
}

describe('an external assertion from a rotating file', () => {
  it('authenticates the workload client on every request, one fresh assertion each', async () => {
    const path = join(dir, 'token');
    const authenticator = createClientAssertionAuthenticator({
      clientId: idp.workload.clientId,
      clientAssertion: assertionFromFile(path),
      now: defaultClock,
      where: 'test',
    });
    for (let rotation = 0; rotation < 2; rotation++) {
      // The platform rewrites the file; the SDK reads it again for the next request.
      await writeFile(path, `${await idp.workload.assertion({ lifetimeSeconds: 120 })}\n`);
      const { body, notAfter } = await authenticator.authenticate();
      const answer = await post(
        tokenCall(),
        { grant_type: 'client_credentials', scope: 'orders:read', ...body },
        {},
      );
      expect(answer.response.status).toBe(200);
      expect(notAfter).toBeGreaterThan(Math.floor(Date.now() / 1000));
    }
  });

  it('is refused by the server when the file holds an assertion signed by another key', async () => {
    const path = join(dir, 'forged');
    const { privateKey } = await generateKeyPair('ES256');
    await writeFile(path, await idp.workload.assertion({ key: privateKey }));
    const { body } = await createClientAssertionAuthenticator({
      clientId: idp.workload.clientId,
      clientAssertion: assertionFromFile(path),
      now: defaultClock,
      where: 'test',
    }).authenticate();
    const call = tokenCall();
    const answer = await post(call, { grant_type: 'client_credentials', ...body }, {});
    const error = toOAuthError(answer, call);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
  });
});

describe('a token exchange built and read by the SDK’s steps', () => {
  it('gets a delegated token for the audience, capped at the subject token’s exp', async () => {
    const subjectToken = await mintAccessToken(idp, { client: EXCHANGE_CLIENTS.frontend });
    const request = prepareTokenExchange({
      subjectToken,
      subjectTokenType: TokenTypes.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
      scope: 'ledger:read',
    });
    const call = tokenCall(request.secrets);
    const sentAtMs = Date.now();
    const answer = await post(call, request.parameters, {
      Authorization: basicAuthorization(
        EXCHANGE_CLIENTS.exchanger.clientId,
        EXCHANGE_CLIENTS.exchanger.clientSecret,
      ),
    });
    expect(answer.response.status).toBe(200);
    const token = readTokenExchangeResponse(
      parseBody(answer, schemas.TokenExchangeResponse, call),
      { dpop: false, sentAtMs, where: 'token endpoint', notAfter: request.notAfter },
    );
    expect(token).toMatchObject({
      issued_token_type: TokenTypes.accessToken,
      token_type: 'Bearer',
      scope: 'ledger:read',
    });
    expect(token.expires_at).toBeLessThanOrEqual(request.notAfter!);
    const claims = await verifyExchangedToken(idp, token.access_token, EXCHANGE_AUDIENCES.ledger);
    expect(claims.act).toEqual({ sub: EXCHANGE_CLIENTS.exchanger.clientId });
  });

  it('maps the server’s invalid_target to OAuthError.code', async () => {
    const subjectToken = await mintAccessToken(idp, { client: EXCHANGE_CLIENTS.frontend });
    const request = prepareTokenExchange({
      subjectToken,
      subjectTokenType: TokenTypes.accessToken,
      audience: 'unknown-api',
    });
    const call = tokenCall(request.secrets);
    const answer = await post(call, request.parameters, {
      Authorization: basicAuthorization(
        EXCHANGE_CLIENTS.exchanger.clientId,
        EXCHANGE_CLIENTS.exchanger.clientSecret,
      ),
    });
    const error = toOAuthError(answer, call);
    expect(error).toMatchObject({ code: 'invalid_target', status: 400 });
    expect(String(error)).not.toContain(subjectToken);
  });
});
