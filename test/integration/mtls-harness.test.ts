import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../support/idp.js';
import {
  createTestPki,
  getOverTls,
  jwtPayload,
  MTLS_CLIENTS,
  postFormOverTls,
  startMtlsIdp,
  type MtlsTestIdp,
  type TestPki,
} from '../support/mtls.js';

let pki: TestPki;
let idp: MtlsTestIdp;

beforeAll(async () => {
  pki = createTestPki();
  idp = await startMtlsIdp(pki);
});
afterAll(async () => {
  await idp?.close();
  pki?.remove();
});

const tokenForm = (clientId: string, resource: string = RESOURCES.jwt) => ({
  grant_type: 'client_credentials',
  client_id: clientId,
  resource,
});

describe('the mTLS test IdP', () => {
  it('publishes mtls_endpoint_aliases on a second TLS listener and announces bound tokens', async () => {
    const answer = await getOverTls(`${idp.issuer}/.well-known/oauth-authorization-server`, {
      ca: pki.ca.cert,
    });
    expect(answer.status).toBe(200);
    const discovery = answer.body ?? {};
    expect(discovery.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(discovery.mtls_endpoint_aliases).toEqual(idp.aliases);
    expect(new URL(idp.aliases.token_endpoint).origin).not.toBe(idp.issuer);
    expect(discovery.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(discovery.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']),
    );
  });

  it('issues a CA-issued certificate a token bound to its SHA-256 thumbprint (tls_client_auth)', async () => {
    const answer = await postFormOverTls(
      idp.aliases.token_endpoint,
      tokenForm(MTLS_CLIENTS.tlsClientAuth.clientId),
      { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    );
    expect(answer.status).toBe(200);
    expect(answer.body?.token_type).toBe('Bearer');
    const claims = jwtPayload(answer.body?.access_token as string);
    expect(claims.cnf).toEqual({ 'x5t#S256': pki.client.thumbprint });
    expect(claims.client_id).toBe(MTLS_CLIENTS.tlsClientAuth.clientId);
  });

  it('issues a registered self-signed certificate a token bound to it (self_signed_tls_client_auth)', async () => {
    const answer = await postFormOverTls(
      idp.aliases.token_endpoint,
      tokenForm(MTLS_CLIENTS.selfSigned.clientId),
      { ca: pki.ca.cert, cert: pki.selfSigned.cert, key: pki.selfSigned.key },
    );
    expect(answer.status).toBe(200);
    const claims = jwtPayload(answer.body?.access_token as string);
    expect(claims.cnf).toEqual({ 'x5t#S256': pki.selfSigned.thumbprint });
  });

  it('binds opaque tokens too, and says so in introspection', async () => {
    const tls = { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key };
    const clientId = MTLS_CLIENTS.tlsClientAuth.clientId;
    const answer = await postFormOverTls(
      idp.aliases.token_endpoint,
      tokenForm(clientId, RESOURCES.opaque),
      tls,
    );
    expect(answer.status).toBe(200);
    const introspection = await postFormOverTls(
      idp.aliases.introspection_endpoint,
      { token: answer.body?.access_token as string, client_id: clientId },
      tls,
    );
    expect(introspection.status).toBe(200);
    expect(introspection.body?.active).toBe(true);
    expect(introspection.body?.cnf).toEqual({ 'x5t#S256': pki.client.thumbprint });
  });

  it('answers invalid_client to a request without a certificate', async () => {
    const answer = await postFormOverTls(
      idp.aliases.token_endpoint,
      tokenForm(MTLS_CLIENTS.tlsClientAuth.clientId),
      { ca: pki.ca.cert },
    );
    expect(answer.status).toBe(401);
    expect(answer.body?.error).toBe('invalid_client');
    expect(idp.aliasRequests.at(-1)?.clientCertificate).toBe(false);
  });

  it('answers invalid_client to a certificate from the CA with another subject', async () => {
    const answer = await postFormOverTls(
      idp.aliases.token_endpoint,
      tokenForm(MTLS_CLIENTS.tlsClientAuth.clientId),
      { ca: pki.ca.cert, cert: pki.otherClient.cert, key: pki.otherClient.key },
    );
    expect(answer.status).toBe(401);
    expect(answer.body?.error).toBe('invalid_client');
  });

  it('answers invalid_client to a self-signed certificate for tls_client_auth (not from the CA)', async () => {
    const answer = await postFormOverTls(
      idp.aliases.token_endpoint,
      tokenForm(MTLS_CLIENTS.tlsClientAuth.clientId),
      { ca: pki.ca.cert, cert: pki.selfSigned.cert, key: pki.selfSigned.key },
    );
    expect(answer.status).toBe(401);
    expect(answer.body?.error).toBe('invalid_client');
  });

  it('answers invalid_client to an unregistered certificate for self_signed_tls_client_auth', async () => {
    const answer = await postFormOverTls(
      idp.aliases.token_endpoint,
      tokenForm(MTLS_CLIENTS.selfSigned.clientId),
      { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    );
    expect(answer.status).toBe(401);
    expect(answer.body?.error).toBe('invalid_client');
  });

  it('answers invalid_client on the ordinary token endpoint, which asks for no certificate', async () => {
    const answer = await postFormOverTls(
      `${idp.issuer}/token`,
      tokenForm(MTLS_CLIENTS.tlsClientAuth.clientId),
      { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    );
    expect(answer.status).toBe(401);
    expect(answer.body?.error).toBe('invalid_client');
  });
});
