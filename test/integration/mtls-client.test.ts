/**
 * The mTLS fetch against a real oidc-provider over TLS, and certificate-bound tokens checked by
 * a resource server on `node:https` reading the client certificate from its TLS socket.
 */
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMtlsFetch, type MtlsFetch } from '../../src/runtime/transport/mtls.js';
import {
  checkCertificateBinding,
  clientCertificateFromHeader,
} from '../../src/runtime/server/certificate-binding.js';
import { toTokenError } from '../../src/runtime/server/rejection.js';
import { RESOURCES } from '../support/idp.js';
import {
  createTestPki,
  jwtPayload,
  listenOnLoopback,
  resourceServerTls,
  type RunningServer,
  MTLS_CLIENTS,
  startMtlsIdp,
  type MtlsTestIdp,
  type TestPki,
} from '../support/mtls.js';

let pki: TestPki;
let idp: MtlsTestIdp;
let api: RunningServer | undefined;
let apiUrl: string;
const fetches: MtlsFetch[] = [];

/** A resource server that holds bound tokens to the certificate of the request's TLS socket. */
function startApi(): Promise<RunningServer> {
  const server = createServer(resourceServerTls(pki), (req, res) => {
    void (async () => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      // The claims are read, not verified: this server tests the certificate binding only.
      const claims = jwtPayload(token);
      const fromProxy = req.url === '/behind-proxy';
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- an https server's sockets are TLS sockets
      const raw = (req.socket as TLSSocket).getPeerCertificate(true).raw;
      try {
        const certificate = fromProxy
          ? clientCertificateFromHeader(req.headers['client-cert'])
          : raw;
        await checkCertificateBinding(claims, certificate);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ client_id: claims.client_id }));
      } catch (failure) {
        const error = toTokenError(failure, {
          scheme: 'Bearer',
          offered: ['Bearer'],
          realm: undefined,
          dpopAlgs: '',
        });
        res.writeHead(error.status, {
          'www-authenticate': error.wwwAuthenticate,
          'x-reason': error.reason,
        });
        res.end();
      }
    })();
  });
  return listenOnLoopback(server);
}

function mtlsFetch(certificate: { cert: string; key: string }): MtlsFetch {
  const fetch = createMtlsFetch({ cert: certificate.cert, key: certificate.key, ca: pki.ca.cert });
  fetches.push(fetch);
  return fetch;
}

async function token(fetch: MtlsFetch, clientId: string, url = idp.aliases.token_endpoint) {
  const response = await fetch(
    new Request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        resource: RESOURCES.jwt,
      }),
    }),
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  pki = createTestPki();
  idp = await startMtlsIdp(pki);
  api = await startApi();
  apiUrl = api.origin;
});
afterAll(async () => {
  await Promise.all(fetches.map((fetch) => fetch.close()));
  await idp?.close();
  await api?.close();
  pki?.remove();
});

describe('createMtlsFetch against oidc-provider', () => {
  it('gets a token bound to the CA-issued certificate it presents (tls_client_auth)', async () => {
    const fetch = mtlsFetch(pki.client);
    const { status, body } = await token(fetch, MTLS_CLIENTS.tlsClientAuth.clientId);
    expect(status).toBe(200);
    expect(jwtPayload(body.access_token as string).cnf).toEqual({
      'x5t#S256': pki.client.thumbprint,
    });
    expect(idp.aliasRequests.at(-1)).toMatchObject({ path: '/token', clientCertificate: true });
  });

  it('gets a token bound to the self-signed certificate it presents (self_signed_tls_client_auth)', async () => {
    const fetch = mtlsFetch(pki.selfSigned);
    const { status, body } = await token(fetch, MTLS_CLIENTS.selfSigned.clientId);
    expect(status).toBe(200);
    expect(jwtPayload(body.access_token as string).cnf).toEqual({
      'x5t#S256': pki.selfSigned.thumbprint,
    });
  });

  it('is refused on the ordinary token endpoint, which never asks for the certificate', async () => {
    const fetch = mtlsFetch(pki.client);
    const { status, body } = await token(
      fetch,
      MTLS_CLIENTS.tlsClientAuth.clientId,
      `${idp.issuer}/token`,
    );
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('trusts the configured ca instead of the default set', async () => {
    const untrusting = createMtlsFetch({ cert: pki.client.cert, key: pki.client.key });
    fetches.push(untrusting);
    const failure = await untrusting(new Request(`${idp.issuer}/jwks`)).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as { cause?: { code?: string } }).cause?.code).toMatch(
      /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/,
    );
  });

  it('passes a caller-given init over the request, as fetch does', async () => {
    const fetch = mtlsFetch(pki.client);
    const response = await fetch(new Request(`${idp.issuer}/jwks`), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(idp.requests.at(-1)).toMatchObject({ method: 'HEAD', path: '/jwks' });
  });

  it('opens new connections after close()', async () => {
    const fetch = mtlsFetch(pki.client);
    expect((await token(fetch, MTLS_CLIENTS.tlsClientAuth.clientId)).status).toBe(200);
    await fetch.close();
    expect((await token(fetch, MTLS_CLIENTS.tlsClientAuth.clientId)).status).toBe(200);
  });
});

describe('a certificate-bound token at a resource server', () => {
  it('is accepted from the client holding the certificate', async () => {
    const fetch = mtlsFetch(pki.client);
    const { body } = await token(fetch, MTLS_CLIENTS.tlsClientAuth.clientId);
    const response = await fetch(
      new Request(`${apiUrl}/orders`, {
        headers: { authorization: `Bearer ${body.access_token as string}` },
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ client_id: MTLS_CLIENTS.tlsClientAuth.clientId });
  });

  it('is refused from a client presenting another certificate: 401 invalid_token, reason certificate', async () => {
    const { body } = await token(mtlsFetch(pki.client), MTLS_CLIENTS.tlsClientAuth.clientId);
    const thief = mtlsFetch(pki.otherClient);
    const response = await thief(
      new Request(`${apiUrl}/orders`, {
        headers: { authorization: `Bearer ${body.access_token as string}` },
      }),
    );
    expect(response.status).toBe(401);
    expect(response.headers.get('x-reason')).toBe('certificate');
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="the token is bound to a client certificate"',
    );
  });

  it('is refused from a client presenting no certificate', async () => {
    const { body } = await token(mtlsFetch(pki.client), MTLS_CLIENTS.tlsClientAuth.clientId);
    const { request } = await import('node:https');
    const answer = await new Promise<{ status?: number; reason?: unknown }>((resolve, reject) => {
      request(`${apiUrl}/orders`, {
        ca: pki.ca.cert,
        agent: false,
        headers: { authorization: `Bearer ${body.access_token as string}` },
      })
        .on('response', (response) => {
          response.resume();
          resolve({ status: response.statusCode, reason: response.headers['x-reason'] });
        })
        .on('error', reject)
        .end();
    });
    expect(answer).toEqual({ status: 401, reason: 'certificate' });
  });

  it('is checked against a proxy-forwarded Client-Cert header where the server reads it (RFC 9440)', async () => {
    const { body } = await token(mtlsFetch(pki.client), MTLS_CLIENTS.tlsClientAuth.clientId);
    const proxy = mtlsFetch(pki.otherClient);
    const send = (der: Uint8Array) =>
      proxy(
        new Request(`${apiUrl}/behind-proxy`, {
          headers: {
            authorization: `Bearer ${body.access_token as string}`,
            'client-cert': `:${Buffer.from(der).toString('base64')}:`,
          },
        }),
      );
    expect((await send(pki.client.der)).status).toBe(200);
    const refused = await send(pki.otherClient.der);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-reason')).toBe('certificate');
  });
});
