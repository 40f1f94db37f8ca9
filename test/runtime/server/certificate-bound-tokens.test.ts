/**
 * Certificate-bound access tokens (RFC 8705 §3) through the resource server's entry points:
 * `verifyToken` and `verifyRequest` with the `clientCertificate` option, a certificate carried
 * by the request, introspected opaque tokens, and the second check of a verified DPoP request.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer, TokenError } from '../../../src/server.js';
import { OptionError } from '../../../src/runtime/shared/options.js';
import type { FetchLike } from '../../../src/runtime/shared/options.js';
import { manualClock } from '../../support/clock.js';
import { createTestPki, type TestPki } from '../../support/mtls.js';
import {
  AUDIENCE,
  ISSUER,
  RESOURCE_URL,
  START,
  accessToken,
  dpopProof,
  makeDpopKey,
  makeKey,
  request,
  setup,
} from './helpers.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => {
  pki.remove();
});

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TokenError);
  return error as TokenError;
}

function expectCertificateRefusal(error: TokenError): void {
  expect(error.reason).toBe('certificate');
  expect(error.status).toBe(401);
  expect(error.error).toBe('invalid_token');
  expect(error.wwwAuthenticate).toMatch(/^(Bearer|DPoP) error="invalid_token"/);
}

const boundTo = (thumbprint: string) => ({ cnf: { 'x5t#S256': thumbprint } });

describe('verifyRequest with a certificate-bound token', () => {
  it('accepts the token with the certificate it is bound to, in every form', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now(), boundTo(pki.client.thumbprint));
    const req = () => request({ authorization: `Bearer ${token}` });
    for (const clientCertificate of [
      pki.client.der,
      pki.client.cert,
      new X509Certificate(pki.client.cert),
    ]) {
      const claims = await s.server.verifyRequest(req(), { clientCertificate });
      expect(claims.cnf?.['x5t#S256']).toBe(pki.client.thumbprint);
    }
  });

  it('refuses the token without a certificate with 401 reason certificate', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now(), boundTo(pki.client.thumbprint));
    const error = await rejection(
      s.server.verifyRequest(request({ authorization: `Bearer ${token}` })),
    );
    expectCertificateRefusal(error);
    expect(error.detail).toMatch(/without a client certificate/);
  });

  it('refuses the token with another certificate, naming both thumbprints but no certificate', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now(), boundTo(pki.client.thumbprint));
    const error = await rejection(
      s.server.verifyRequest(request({ authorization: `Bearer ${token}` }), {
        clientCertificate: pki.otherClient.der,
      }),
    );
    expectCertificateRefusal(error);
    expect(error.detail).toContain(pki.otherClient.thumbprint);
    expect(error.detail).toContain(pki.client.thumbprint);
    expect(error.message).not.toContain(token);
  });

  it('takes the certificate the request carries, and lets the option replace it', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now(), boundTo(pki.client.thumbprint));
    const carried = {
      method: 'GET',
      url: RESOURCE_URL,
      headers: { authorization: `Bearer ${token}` },
      clientCertificate: { raw: pki.client.der },
    };
    await expect(s.server.verifyRequest(carried)).resolves.toMatchObject({ sub: 'orders-worker' });
    const error = await rejection(
      s.server.verifyRequest(carried, { clientCertificate: pki.selfSigned.der }),
    );
    expectCertificateRefusal(error);
  });

  it('accepts a token that is not bound with or without a certificate', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now());
    const req = () => request({ authorization: `Bearer ${token}` });
    await expect(s.server.verifyRequest(req())).resolves.toMatchObject({ sub: 'orders-worker' });
    await expect(
      s.server.verifyRequest(req(), { clientCertificate: pki.client.der }),
    ).resolves.toMatchObject({ sub: 'orders-worker' });
  });

  it('refuses a certificate option it cannot read with an OptionError, even for a token that is not bound', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now());
    const failure = await s.server
      .verifyRequest(request({ authorization: `Bearer ${token}` }), {
        clientCertificate: 'not a certificate',
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(OptionError);
    expect(failure).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'clientCertificate' });
  });

  it('refuses a token whose x5t#S256 is not a SHA-256 thumbprint with reason claims', async () => {
    const s = await setup();
    for (const value of ['', 'short', 42, pki.client.thumbprint + 'A']) {
      const token = await accessToken(s.key, s.now(), { cnf: { 'x5t#S256': value } });
      const error = await rejection(
        s.server.verifyRequest(request({ authorization: `Bearer ${token}` }), {
          clientCertificate: pki.client.der,
        }),
      );
      expect(error.reason).toBe('claims');
      expect(error.claim).toBe('cnf');
      expect(error.detail).toMatch(/expected an object whose jkt .* whose x5t#S256 is a base64url/);
    }
  });

  it('checks the certificate again when a verified DPoP request is asked about a second time', async () => {
    const s = await setup();
    const dpopKey = await makeDpopKey();
    const token = await accessToken(s.key, s.now(), {
      cnf: { jkt: dpopKey.jkt, 'x5t#S256': pki.client.thumbprint },
    });
    const proof = await dpopProof(dpopKey, s.now(), { accessToken: token });
    const req = request({ authorization: `DPoP ${token}`, dpop: proof });
    await s.server.verifyRequest(req, { clientCertificate: pki.client.der });
    const error = await rejection(s.server.verifyRequest(req));
    expectCertificateRefusal(error);
    const other = await rejection(
      s.server.verifyRequest(req, { clientCertificate: pki.otherClient.der }),
    );
    expectCertificateRefusal(other);
    await expect(
      s.server.verifyRequest(req, { clientCertificate: pki.client.der }),
    ).resolves.toMatchObject({ sub: 'orders-worker' });
  });
});

describe('verifyToken with a certificate-bound token', () => {
  it('holds the token to the clientCertificate option', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now(), boundTo(pki.selfSigned.thumbprint));
    await expect(
      s.server.verifyToken(token, { clientCertificate: pki.selfSigned.cert }),
    ).resolves.toMatchObject({ cnf: { 'x5t#S256': pki.selfSigned.thumbprint } });
    expectCertificateRefusal(await rejection(s.server.verifyToken(token)));
    // A second verification (served from the verified-token cache) is held to it too.
    expectCertificateRefusal(await rejection(s.server.verifyToken(token)));
    expectCertificateRefusal(
      await rejection(s.server.verifyToken(token, { clientCertificate: pki.client.der })),
    );
  });
});

describe('an introspected opaque token bound to a certificate', () => {
  const OPAQUE = 'b3BhcXVlX2JvdW5kX3Rva2VuX3ZhbHVlXzEyMzQ1Njc4OQ';

  async function opaqueServer(answer: Record<string, unknown>, jwt: 'never' | 'always' = 'never') {
    const key = await makeKey('ES256');
    const answers: Record<string, unknown> = {
      '/.well-known/oauth-authorization-server': {
        issuer: ISSUER,
        jwks_uri: `${ISSUER}/jwks`,
        token_endpoint: `${ISSUER}/token`,
        introspection_endpoint: `${ISSUER}/introspect`,
      },
      '/jwks': { keys: [key.jwk] },
      '/introspect': answer,
    };
    const fetch: FetchLike = (input) => {
      const body = answers[new URL(input.url).pathname];
      return Promise.resolve(
        body === undefined ? new Response(null, { status: 404 }) : Response.json(body),
      );
    };
    const clock = manualClock(START);
    const server = createResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      fetch,
      now: clock.now,
      introspection: { clientId: 'orders-api', clientSecret: 'introspection-secret', jwt },
    });
    return Object.assign(server, { key });
  }

  it('is accepted with its certificate and refused without it or with another', async () => {
    const now = START.getTime() / 1000;
    const server = await opaqueServer({
      active: true,
      iss: ISSUER,
      aud: AUDIENCE,
      client_id: 'orders-worker',
      exp: now + 300,
      token_type: 'Bearer',
      cnf: { 'x5t#S256': pki.client.thumbprint },
    });
    const req = () => request({ authorization: `Bearer ${OPAQUE}` });
    await expect(
      server.verifyRequest(req(), { clientCertificate: pki.client.der }),
    ).resolves.toMatchObject({ client_id: 'orders-worker' });
    expectCertificateRefusal(await rejection(server.verifyRequest(req())));
    expectCertificateRefusal(
      await rejection(server.verifyRequest(req(), { clientCertificate: pki.otherClient.der })),
    );
    expectCertificateRefusal(await rejection(server.verifyToken(OPAQUE)));
  });

  describe('a JWT confirmed by introspection (jwt: always)', () => {
    const now = START.getTime() / 1000;
    const answer = (cnf?: Record<string, unknown>) => ({
      active: true,
      iss: ISSUER,
      aud: AUDIENCE,
      client_id: 'orders-worker',
      exp: now + 300,
      ...(cnf === undefined ? {} : { cnf }),
    });

    it('is accepted when both bind it to the certificate it came with', async () => {
      const server = await opaqueServer(answer(boundTo(pki.client.thumbprint).cnf), 'always');
      const token = await accessToken(server.key, now, boundTo(pki.client.thumbprint));
      await expect(
        server.verifyToken(token, { clientCertificate: pki.client.der }),
      ).resolves.toMatchObject({ cnf: { 'x5t#S256': pki.client.thumbprint } });
    });

    it('is refused when its introspection names another certificate', async () => {
      const server = await opaqueServer(answer(boundTo(pki.otherClient.thumbprint).cnf), 'always');
      const token = await accessToken(server.key, now, boundTo(pki.client.thumbprint));
      const error = await rejection(
        server.verifyToken(token, { clientCertificate: pki.client.der }),
      );
      expectCertificateRefusal(error);
      expect(error.message).toMatch(/introspection name different client certificates/);
    });

    it('is refused when only its introspection binds it, though the JWT passes as bearer', async () => {
      const server = await opaqueServer(answer(boundTo(pki.client.thumbprint).cnf), 'always');
      const token = await accessToken(server.key, now);
      expectCertificateRefusal(await rejection(server.verifyToken(token)));
      expectCertificateRefusal(
        await rejection(server.verifyToken(token, { clientCertificate: pki.client.der })),
      );
    });

    it("is refused when its introspection drops the JWT's binding", async () => {
      const server = await opaqueServer(answer(), 'always');
      const token = await accessToken(server.key, now, boundTo(pki.client.thumbprint));
      expectCertificateRefusal(
        await rejection(server.verifyToken(token, { clientCertificate: pki.client.der })),
      );
    });

    it('refuses an introspected binding that is not a thumbprint (reason claims)', async () => {
      const server = await opaqueServer(answer({ 'x5t#S256': 'short' }), 'always');
      const token = await accessToken(server.key, now, boundTo(pki.client.thumbprint));
      expect(
        await rejection(server.verifyToken(token, { clientCertificate: pki.client.der })),
      ).toMatchObject({ reason: 'claims', claim: 'cnf' });
    });
  });

  it('refuses an opaque token whose binding is not a thumbprint (reason claims)', async () => {
    const now = START.getTime() / 1000;
    const server = await opaqueServer({
      active: true,
      iss: ISSUER,
      aud: AUDIENCE,
      exp: now + 300,
      cnf: { 'x5t#S256': 'not-a-thumbprint' },
    });
    expect(
      await rejection(
        server.verifyRequest(request({ authorization: `Bearer ${OPAQUE}` }), {
          clientCertificate: pki.client.der,
        }),
      ),
    ).toMatchObject({ reason: 'claims', claim: 'cnf' });
  });
});
