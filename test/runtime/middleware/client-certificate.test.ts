import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  forwardedCertificate,
  peerCertificate,
} from '../../../src/runtime/middleware/client-certificate.js';
import { authenticate } from '../../../src/runtime/middleware/authenticate.js';
import { resolveServiceAuthOptions } from '../../../src/runtime/middleware/guard-options.js';
import type { ResourceServerEvent } from '../../../src/server.js';
import { accessToken, setup } from '../server/helpers.js';
import { requestFromNode } from '../../../src/runtime/middleware/node-request.js';
import { webRequestParts } from '../../../src/runtime/middleware/web-request.js';
import { TokenError } from '../../../src/runtime/token-error.js';
import { toTokenError } from '../../../src/runtime/server/rejection.js';
import { OptionError } from '../../../src/runtime/shared/options.js';
import { createTestPki, type TestPki } from '../../support/mtls.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => {
  pki.remove();
});

/** A TLS socket as Node hands it out: `getPeerCertificate(true)` gives `{}` for no certificate. */
function tlsSocket(raw: Uint8Array | undefined) {
  return {
    encrypted: true,
    getPeerCertificate: (detailed: boolean) => {
      expect(detailed).toBe(true);
      return raw === undefined ? {} : { raw: Buffer.from(raw) };
    },
  };
}

function refusalOf(run: () => unknown): TokenError {
  try {
    run();
  } catch (failure) {
    return toTokenError(failure, {
      scheme: undefined,
      offered: ['Bearer'],
      realm: undefined,
      dpopAlgs: '',
    });
  }
  throw new Error('expected a refusal');
}

describe('peerCertificate', () => {
  it('reads the DER bytes of the certificate a TLS peer presented', () => {
    expect(peerCertificate(tlsSocket(pki.client.der))).toEqual(Buffer.from(pki.client.der));
  });

  it('finds none on a TLS socket whose peer presented none, on a plain socket or without one', () => {
    expect(peerCertificate(tlsSocket(undefined))).toBeUndefined();
    expect(peerCertificate({ encrypted: false })).toBeUndefined();
    expect(peerCertificate(undefined)).toBeUndefined();
    expect(peerCertificate({ getPeerCertificate: () => null })).toBeUndefined();
    expect(
      peerCertificate({ getPeerCertificate: () => ({ raw: new Uint8Array() }) }),
    ).toBeUndefined();
  });
});

describe('requestFromNode and webRequestParts', () => {
  it('carry the TLS socket’s client certificate with the request', () => {
    const node = requestFromNode({
      method: 'GET',
      url: '/orders',
      headers: { host: 'api.example.test' },
      socket: tlsSocket(pki.client.der),
    });
    expect(node.clientCertificate).toEqual(Buffer.from(pki.client.der));
    const web = webRequestParts(
      new Request('https://api.example.test/orders'),
      { publicOrigin: undefined, trustProxy: false },
      tlsSocket(pki.selfSigned.der),
    );
    expect(web.clientCertificate).toEqual(Buffer.from(pki.selfSigned.der));
  });

  it('never take the certificate from a Client-Cert header', () => {
    const header = `:${Buffer.from(pki.client.der).toString('base64')}:`;
    const node = requestFromNode({
      method: 'GET',
      url: '/orders',
      headers: { host: 'api.example.test', 'client-cert': header },
      socket: { encrypted: false },
    });
    expect(node.clientCertificate).toBeUndefined();
    const web = webRequestParts(
      new Request('https://api.example.test/orders', { headers: { 'client-cert': header } }),
      { publicOrigin: undefined, trustProxy: false },
    );
    expect(web.clientCertificate).toBeUndefined();
  });
});

describe('forwardedCertificate', () => {
  const header = () => `:${Buffer.from(pki.client.der).toString('base64')}:`;

  it('reads the DER bytes of an RFC 9440 Client-Cert header, from a record or Headers', () => {
    expect(forwardedCertificate({ 'client-cert': header() })).toEqual(pki.client.der);
    expect(forwardedCertificate(new Headers({ 'Client-Cert': header() }))).toEqual(pki.client.der);
    expect(forwardedCertificate({})).toBeUndefined();
  });

  it('refuses a header that came more than once with reason certificate', () => {
    const error = refusalOf(() => forwardedCertificate({ 'client-cert': [header(), header()] }));
    expect(error.reason).toBe('certificate');
    expect(error.status).toBe(401);
    expect(error.detail).toMatch(/more than once/);
  });
});

describe('the clientCertificateHeader option', () => {
  const resourceServer = { verifyRequest: () => Promise.reject(new Error('not called')) };

  it("takes 'client-cert' and defaults to reading the socket", () => {
    expect(
      resolveServiceAuthOptions({ resourceServer, clientCertificateHeader: 'client-cert' })
        .clientCertificateHeader,
    ).toBe('client-cert');
    expect(resolveServiceAuthOptions({ resourceServer }).clientCertificateHeader).toBeUndefined();
  });

  it('refuses any other value with an OptionError naming what it found', () => {
    for (const [value, found] of [
      ['x-client-cert', '"x-client-cert"'],
      [true, 'a boolean'],
    ] as const) {
      let error: unknown;
      try {
        resolveServiceAuthOptions({ resourceServer, clientCertificateHeader: value });
      } catch (failure) {
        error = failure;
      }
      expect(error).toBeInstanceOf(OptionError);
      expect(error).toMatchObject({
        code: 'ERR_INVALID_OPTION',
        option: 'clientCertificateHeader',
      });
      expect((error as Error).message).toContain(found);
    }
  });
});

describe('a guard reading Client-Cert', () => {
  it('has the resource server read the header: a bad one is a 401 and a verification_failed event', async () => {
    const events: ResourceServerEvent[] = [];
    const s = await setup({ onEvent: (event) => events.push(event) });
    const token = await accessToken(s.key, s.now(), { cnf: { 'x5t#S256': pki.client.thumbprint } });
    const options = resolveServiceAuthOptions({
      resourceServer: s.server,
      clientCertificateHeader: 'client-cert',
    });
    const request = (clientCert: string) => ({
      method: 'GET',
      url: 'https://api.example.test/orders',
      headers: { authorization: `Bearer ${token}`, 'client-cert': clientCert },
      // The proxy's own certificate, on the socket: never the one checked.
      clientCertificate: pki.otherClient.der,
    });
    const good = await authenticate(
      options,
      request(`:${Buffer.from(pki.client.der).toString('base64')}:`),
    );
    expect(good.claims).toMatchObject({ cnf: { 'x5t#S256': pki.client.thumbprint } });

    const bad = await authenticate(options, request(':not*base64:'));
    expect(bad.error).toMatchObject({ reason: 'certificate', status: 401, error: 'invalid_token' });
    expect(bad.rejection?.status).toBe(401);
    expect(events.at(-1)).toMatchObject({ type: 'verification_failed', reason: 'certificate' });
  });
});
