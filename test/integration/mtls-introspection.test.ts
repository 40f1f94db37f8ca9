/**
 * Certificate-bound opaque tokens (RFC 8705 §3) from a real oidc-provider with `features.mTLS`,
 * introspected (RFC 7662) over mutual TLS (RFC 8705 §2, `tls_client_auth`) at the alias endpoint
 * of discovery (§5): by a resource server's `introspection`, and by `introspectToken`.
 */
import { createServer } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createResourceServer,
  introspectToken,
  OAuthError,
  requestFromNode,
  TokenError,
  type ResourceServer,
  type ResourceServerEvent,
} from '../../src/server.js';
import { createMtlsFetch, type MtlsFetch } from '../../src/runtime/transport/mtls.js';
import { RESOURCES } from '../support/idp.js';
import {
  createTestPki,
  getOverTls,
  listenOnLoopback,
  MTLS_CLIENTS,
  postFormOverTls,
  resourceServerTls,
  startMtlsIdp,
  type MtlsTestIdp,
  type PlainResponse,
  type RunningServer,
  type TestCertificate,
  type TestPki,
} from '../support/mtls.js';

let pki: TestPki;
let idp: MtlsTestIdp;
/** Discovery over TLS, trusting the test CA; presents no certificate the IdP asks for. */
let plainFetch: MtlsFetch;
let resourceServer: ResourceServer;
const events: ResourceServerEvent[] = [];
let api: RunningServer;

const rsTls = () => ({
  cert: pki.resourceServer.cert,
  key: pki.resourceServer.key,
  ca: pki.ca.cert,
});

beforeAll(async () => {
  pki = createTestPki();
  idp = await startMtlsIdp(pki);
  plainFetch = createMtlsFetch({
    cert: pki.otherClient.cert,
    key: pki.otherClient.key,
    ca: pki.ca.cert,
  });
  resourceServer = createResourceServer({
    issuer: idp.issuer,
    audience: RESOURCES.opaque,
    fetch: plainFetch,
    onEvent: (event) => events.push(event),
    introspection: {
      clientId: MTLS_CLIENTS.resourceServer.clientId,
      clientAuth: 'tls_client_auth',
      tls: rsTls(),
      cacheMaxSeconds: 0,
    },
  });
  api = await listenOnLoopback(
    createServer(resourceServerTls(pki), (req, res) => {
      resourceServer.verifyRequest(requestFromNode(req)).then(
        (claims) => res.end(JSON.stringify({ client_id: claims.client_id })),
        (error: unknown) => {
          const refusal = error instanceof TokenError ? error : undefined;
          res
            .writeHead(refusal?.status ?? 500, {
              'content-type': 'application/json',
              ...(refusal === undefined ? {} : { 'www-authenticate': refusal.wwwAuthenticate }),
            })
            .end(JSON.stringify({ reason: refusal?.reason ?? String(error) }));
        },
      );
    }),
  );
});
afterAll(async () => {
  await api?.close();
  await plainFetch?.close();
  await idp?.close();
  pki?.remove();
});

/** An opaque token for the ledger resource, bound to `certificate`, from the alias endpoint. */
async function boundOpaqueToken(
  certificate: TestCertificate,
  clientId: string = MTLS_CLIENTS.tlsClientAuth.clientId,
): Promise<string> {
  const answer = await postFormOverTls(
    idp.aliases.token_endpoint,
    { grant_type: 'client_credentials', client_id: clientId, resource: RESOURCES.opaque },
    { ca: pki.ca.cert, cert: certificate.cert, key: certificate.key },
  );
  expect(answer.status).toBe(200);
  const token = answer.body?.access_token as string;
  expect(token.split('.')).toHaveLength(1);
  return token;
}

function call(token: string, certificate: TestCertificate | undefined): Promise<PlainResponse> {
  return getOverTls(`${api.origin}/ledger`, {
    ca: pki.ca.cert,
    cert: certificate?.cert,
    key: certificate?.key,
    headers: { authorization: `Bearer ${token}` },
  });
}

describe('a resource server introspecting over mutual TLS', () => {
  it('accepts a bound opaque token with the certificate it is bound to', async () => {
    idp.resetRequests();
    const token = await boundOpaqueToken(pki.client);
    const answer = await call(token, pki.client);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ client_id: MTLS_CLIENTS.tlsClientAuth.clientId });
    // The introspection went to the alias, with the resource server's certificate.
    const introspections = idp.aliasRequests.filter((r) => r.path === '/token/introspection');
    expect(introspections).toHaveLength(1);
    expect(introspections[0]).toMatchObject({ method: 'POST', clientCertificate: true });
    expect(introspections[0]?.headers.authorization).toBeUndefined();
  });

  it('accepts a self-signed client’s bound token with its certificate', async () => {
    const token = await boundOpaqueToken(pki.selfSigned, MTLS_CLIENTS.selfSigned.clientId);
    const answer = await call(token, pki.selfSigned);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ client_id: MTLS_CLIENTS.selfSigned.clientId });
  });

  it('refuses the token with another certificate and with none, 401 reason certificate', async () => {
    const token = await boundOpaqueToken(pki.client);
    for (const certificate of [pki.otherClient, pki.selfSigned, undefined]) {
      events.length = 0;
      const answer = await call(token, certificate);
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ reason: 'certificate' });
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'token_introspected', ok: true, active: true }),
      );
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'verification_failed', reason: 'certificate' }),
      );
    }
  });

  it('cannot introspect without its certificate: the IdP refuses it, 503 reason introspection', async () => {
    const withoutCertificate = createResourceServer({
      issuer: idp.issuer,
      audience: RESOURCES.opaque,
      fetch: plainFetch,
      // The server's fetch presents a certificate the IdP has not registered for this client.
      introspection: {
        clientId: MTLS_CLIENTS.resourceServer.clientId,
        clientAuth: 'tls_client_auth',
      },
    });
    const token = await boundOpaqueToken(pki.client);
    const error = await withoutCertificate
      .verifyToken(token, { clientCertificate: pki.client.der })
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ reason: 'introspection', status: 503 });
    expect((error as TokenError).cause).toBeInstanceOf(OAuthError);
    expect((error as TokenError).cause).toMatchObject({ code: 'invalid_client' });
  });
});

describe('introspectToken over mutual TLS', () => {
  it('introspects at the alias with tls_client_auth and sees the binding', async () => {
    const token = await boundOpaqueToken(pki.client);
    const result = await introspectToken({
      issuer: idp.issuer,
      clientId: MTLS_CLIENTS.resourceServer.clientId,
      clientAuth: 'tls_client_auth',
      tls: rsTls(),
      token,
    });
    expect(result).toMatchObject({
      active: true,
      client_id: MTLS_CLIENTS.tlsClientAuth.clientId,
      cnf: { 'x5t#S256': pki.client.thumbprint },
    });
  });

  it('is refused by the IdP with a certificate registered for no such client', async () => {
    const token = await boundOpaqueToken(pki.client);
    await expect(
      introspectToken({
        issuer: idp.issuer,
        clientId: MTLS_CLIENTS.resourceServer.clientId,
        clientAuth: 'tls_client_auth',
        tls: { cert: pki.otherClient.cert, key: pki.otherClient.key, ca: pki.ca.cert },
        token,
      }),
    ).rejects.toMatchObject({ code: 'invalid_client' });
  });
});
