/**
 * Proves the secretless additions of the test IdP (test/support/token-exchange.ts) behave as
 * the integration tests of token exchange and external client assertions will assume: raw
 * requests with fetch and jose only, against oidc-provider on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { confirmationThumbprint } from '../support/dpop.js';
import { mintAccessToken, RESOURCES } from '../support/idp.js';
import {
  EXCHANGE_AUDIENCES,
  EXCHANGE_CLIENTS,
  requestTokenExchange,
  startTokenExchangeIdp,
  TOKEN_TYPES,
  verifyExchangedToken,
  type TokenExchangeIdp,
} from '../support/token-exchange.js';

let idp: TokenExchangeIdp;
let subjectToken: string;

beforeAll(async () => {
  idp = await startTokenExchangeIdp();
  subjectToken = await mintAccessToken(idp, {
    client: EXCHANGE_CLIENTS.frontend,
    scope: 'orders:read',
  });
});
afterAll(() => idp.close());

/** A DPoP proof for the token endpoint, made with jose alone. */
async function dpopProof(url: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const proof = await new SignJWT({ htm: 'POST', htu: url, jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .setIssuedAt()
    .sign(privateKey);
  return { proof, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

describe('token exchange at the test IdP', () => {
  it('exchanges a subject token for one to another audience, naming the actor in act', async () => {
    const { status, body } = await requestTokenExchange(idp, {
      subject_token: subjectToken,
      subject_token_type: TOKEN_TYPES.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
      scope: 'ledger:read',
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      issued_token_type: TOKEN_TYPES.accessToken,
      token_type: 'Bearer',
      scope: 'ledger:read',
    });
    expect(body.expires_in).toBeGreaterThan(0);
    const claims = await verifyExchangedToken(
      idp,
      body.access_token as string,
      EXCHANGE_AUDIENCES.ledger,
    );
    expect(claims).toMatchObject({
      iss: idp.issuer,
      sub: EXCHANGE_CLIENTS.frontend.clientId,
      aud: EXCHANGE_AUDIENCES.ledger,
      client_id: EXCHANGE_CLIENTS.exchanger.clientId,
      act: { sub: EXCHANGE_CLIENTS.exchanger.clientId },
    });
  });

  it('names the actor token’s subject in act for delegation, and takes a resource as target', async () => {
    const actorToken = await mintAccessToken(idp, { client: EXCHANGE_CLIENTS.exchanger });
    const { status, body } = await requestTokenExchange(idp, {
      subject_token: subjectToken,
      subject_token_type: TOKEN_TYPES.accessToken,
      actor_token: actorToken,
      actor_token_type: TOKEN_TYPES.accessToken,
      resource: RESOURCES.eddsa,
    });
    expect(status).toBe(200);
    const claims = await verifyExchangedToken(idp, body.access_token as string, RESOURCES.eddsa);
    expect(claims.act).toEqual({ sub: EXCHANGE_CLIENTS.exchanger.clientId });
  });

  it('never issues a token that outlives its subject token', async () => {
    const { body } = await requestTokenExchange(idp, {
      subject_token: subjectToken,
      subject_token_type: TOKEN_TYPES.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
    });
    const issued = await verifyExchangedToken(idp, body.access_token as string, 'ledger-api');
    const subject = JSON.parse(
      Buffer.from(subjectToken.split('.')[1]!, 'base64url').toString(),
    ) as { exp: number };
    expect(issued.exp).toBeLessThanOrEqual(subject.exp);
  });

  it('binds the issued token to the DPoP key of a proof', async () => {
    const { proof, jkt } = await dpopProof(idp.endpoints.token);
    const { status, body } = await requestTokenExchange(
      idp,
      {
        subject_token: subjectToken,
        subject_token_type: TOKEN_TYPES.accessToken,
        audience: EXCHANGE_AUDIENCES.billing,
      },
      { dpop: proof },
    );
    expect(status).toBe(200);
    expect(body.token_type).toBe('DPoP');
    expect(confirmationThumbprint(body.access_token as string)).toBe(jkt);
  });

  it('answers invalid_request for a subject token it did not issue (RFC 8693 §2.2.2)', async () => {
    const [header, payload] = subjectToken.split('.');
    const { status, body } = await requestTokenExchange(idp, {
      subject_token: `${header}.${payload}.${Buffer.from('forged').toString('base64url')}`,
      subject_token_type: TOKEN_TYPES.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
    });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_request');
  });

  it('answers invalid_request for actor_token_type without actor_token', async () => {
    const { status, body } = await requestTokenExchange(idp, {
      subject_token: subjectToken,
      subject_token_type: TOKEN_TYPES.accessToken,
      actor_token_type: TOKEN_TYPES.accessToken,
      audience: EXCHANGE_AUDIENCES.ledger,
    });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_request');
  });

  it('answers invalid_target for an audience it does not know', async () => {
    const { status, body } = await requestTokenExchange(idp, {
      subject_token: subjectToken,
      subject_token_type: TOKEN_TYPES.accessToken,
      audience: 'somebody-else',
    });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_target');
  });

  it('refuses the grant to a client not registered for it', async () => {
    const { status, body } = await requestTokenExchange(
      idp,
      {
        subject_token: subjectToken,
        subject_token_type: TOKEN_TYPES.accessToken,
        audience: EXCHANGE_AUDIENCES.ledger,
      },
      {
        client: {
          clientId: 'urn:example:orders-worker',
          clientSecret: 'b4s1c%2F:pa ss+w0rd&x=y/~!-7f3c9e',
        },
      },
    );
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_request');
  });
});

describe('a workload identity client at the test IdP', () => {
  async function withAssertion(assertion: string) {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: idp.workload.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope: 'orders:read',
    });
    const response = await fetch(idp.endpoints.token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('gets a token with an assertion the workload issuer signed', async () => {
    const { status, body } = await withAssertion(await idp.workload.assertion());
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'orders:read' });
  });

  it('is refused with an assertion signed by another key', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const { status, body } = await withAssertion(await idp.workload.assertion({ key: privateKey }));
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('is refused with an expired assertion', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { status, body } = await withAssertion(
      await idp.workload.assertion({ claims: { iat: now - 900, exp: now - 300 } }),
    );
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('is refused when the same assertion is sent twice (jti replay)', async () => {
    const assertion = await idp.workload.assertion();
    expect((await withAssertion(assertion)).status).toBe(200);
    const again = await withAssertion(assertion);
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid_client');
  });
});
