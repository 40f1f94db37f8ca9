/** The `{ method, url, headers }` the Node adapters hand to `verifyRequest`, from a Node request. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenError, type ResourceServerEvent } from '../../../src/server.js';
import { OptionError } from '../../../src/runtime/shared/options.js';
import { createTestPki, type TestPki } from '../../support/mtls.js';
import { accessToken, setup } from '../server/helpers.js';
import {
  nodeRequestParts,
  requestFromNode,
  type NodeIncomingRequest,
} from '../../../src/runtime/middleware/node-request.js';

const pinned = { publicOrigin: 'https://api.example.test', trustProxy: false };
const direct = { publicOrigin: undefined, trustProxy: false };

function nodeRequest(overrides: Partial<NodeIncomingRequest> = {}): NodeIncomingRequest {
  return {
    method: 'POST',
    url: '/orders/42',
    headers: { host: '127.0.0.1:8080', authorization: 'Bearer first' },
    rawHeaders: [
      'Host',
      '127.0.0.1:8080',
      'Authorization',
      'Bearer first',
      'authorization',
      'Bearer second',
    ],
    socket: { encrypted: false },
    ...overrides,
  };
}

describe('nodeRequestParts', () => {
  it('builds the URL from the target the framework saw, not from req.url', () => {
    const parts = nodeRequestParts(nodeRequest(), '/api/orders/42?x=1', direct);
    expect(parts.method).toBe('POST');
    expect(parts.url).toBe('http://127.0.0.1:8080/api/orders/42?x=1');
  });

  it('keeps every line of a repeated credential header', () => {
    const { headers } = nodeRequestParts(nodeRequest(), '/orders/42', direct);
    expect((headers as Record<string, string[]>).authorization).toEqual([
      'Bearer first',
      'Bearer second',
    ]);
  });

  it('uses https for a TLS connection, and the pinned public origin over everything', () => {
    const tls = nodeRequest({ socket: { encrypted: true } });
    expect(nodeRequestParts(tls, '/orders', direct).url).toBe('https://127.0.0.1:8080/orders');
    expect(nodeRequestParts(tls, '/orders', pinned).url).toBe('https://api.example.test/orders');
  });

  it('falls back to the HTTP/2 :authority when there is no Host header', () => {
    const http2 = nodeRequest({
      headers: { ':authority': 'api.example.test:8443' },
      rawHeaders: [':authority', 'api.example.test:8443'],
      socket: { encrypted: true },
    });
    expect(nodeRequestParts(http2, '/orders', direct).url).toBe(
      'https://api.example.test:8443/orders',
    );
  });

  it('reads X-Forwarded-Proto and X-Forwarded-Host only when the proxy is trusted', () => {
    const forwarded = nodeRequest({
      headers: {
        host: 'internal:8080',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'api.example.test',
      },
    });
    expect(nodeRequestParts(forwarded, '/orders', direct).url).toBe('http://internal:8080/orders');
    expect(
      nodeRequestParts(forwarded, '/orders', { publicOrigin: undefined, trustProxy: true }).url,
    ).toBe('https://api.example.test/orders');
  });

  it('gives requestFromNode the same parts, with req.url as the target', () => {
    const req = nodeRequest();
    expect(requestFromNode(req, { publicOrigin: 'https://api.example.test' })).toEqual(
      nodeRequestParts(req, '/orders/42', pinned),
    );
  });
});

describe('requestFromNode behind a proxy that forwards Client-Cert (RFC 9440)', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.remove());

  const header = (der: Uint8Array) => `:${Buffer.from(der).toString('base64')}:`;
  /** A DER SEQUENCE of `length` content bytes: well-formed on the outside, as a certificate is. */
  const derSequence = (length: number) =>
    Buffer.concat([Buffer.from([0x30, 0x82, length >> 8, length & 0xff]), Buffer.alloc(length)]);
  /** A request from the proxy: its socket is TLS with the proxy's own certificate. */
  const fromProxy = (clientCert: string | string[] | undefined, token: string) =>
    nodeRequest({
      method: 'GET',
      url: '/orders',
      headers: {
        host: 'api.example.test',
        authorization: `Bearer ${token}`,
        ...(clientCert === undefined ? {} : { 'client-cert': clientCert }),
      },
      rawHeaders: undefined,
      socket: {
        encrypted: true,
        getPeerCertificate: () => ({ raw: Buffer.from(pki.otherClient.der) }),
      },
    });

  async function boundServer() {
    const events: ResourceServerEvent[] = [];
    const s = await setup({ onEvent: (event) => events.push(event) });
    const token = await accessToken(s.key, s.now(), { cnf: { 'x5t#S256': pki.client.thumbprint } });
    return { ...s, token, events };
  }

  async function refusal(promise: Promise<unknown>): Promise<TokenError> {
    const error = await promise.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(TokenError);
    return error as TokenError;
  }

  it('hands verifyRequest the header to read instead of the proxy’s socket certificate', () => {
    const parts = requestFromNode(fromProxy(header(pki.client.der), 'x'), {
      clientCertificateHeader: 'client-cert',
    });
    expect(parts.clientCertificate).toBeUndefined();
    expect(parts.clientCertificateHeader).toBe('client-cert');
    expect(requestFromNode(fromProxy(header(pki.client.der), 'x')).clientCertificate).toEqual(
      Buffer.from(pki.otherClient.der),
    );
  });

  it('accepts a bound token with the forwarded certificate, and only with it', async () => {
    const { server, token } = await boundServer();
    const options = { clientCertificateHeader: 'client-cert' } as const;
    await expect(
      server.verifyRequest(requestFromNode(fromProxy(header(pki.client.der), token), options)),
    ).resolves.toMatchObject({ cnf: { 'x5t#S256': pki.client.thumbprint } });
    for (const forwarded of [header(pki.otherClient.der), undefined]) {
      const error = await refusal(
        server.verifyRequest(requestFromNode(fromProxy(forwarded, token), options)),
      );
      expect(error).toMatchObject({ reason: 'certificate', status: 401, error: 'invalid_token' });
    }
    // Without the option, the socket's certificate (the proxy's) is the one checked.
    expect(
      await refusal(
        server.verifyRequest(requestFromNode(fromProxy(header(pki.client.der), token))),
      ),
    ).toMatchObject({ reason: 'certificate' });
  });

  it('refuses a malformed, oversized or repeated header with reason certificate and an event', async () => {
    const { server, token, events } = await boundServer();
    const der = Buffer.from(pki.client.der);
    const malformed: [string, string | string[]][] = [
      ['bare base64', der.toString('base64')],
      ['PEM', pki.client.cert.replace(/\n/g, ' ')],
      ['not base64', ':not*base64:'],
      ['a list', `${header(der)}, ${header(der)}`],
      ['truncated DER', header(der.subarray(0, der.length - 1))],
      ['oversized', header(derSequence(12 * 1024 + 100))],
      ['two lines', [header(der), header(der)]],
    ];
    for (const [what, value] of malformed) {
      events.length = 0;
      // requestFromNode never throws for the header: the refusal comes from verifyRequest.
      const request = requestFromNode(fromProxy(value, token), {
        clientCertificateHeader: 'client-cert',
      });
      const error = await refusal(server.verifyRequest(request));
      expect(error, what).toMatchObject({
        reason: 'certificate',
        status: 401,
        error: 'invalid_token',
      });
      expect(error.wwwAuthenticate, what).toMatch(/^Bearer error="invalid_token"/);
      expect(events, what).toEqual([
        expect.objectContaining({
          type: 'verification_failed',
          reason: 'certificate',
          status: 401,
        }),
      ]);
      expect(JSON.stringify(events), what).not.toContain(der.toString('base64').slice(0, 64));
    }
  });

  it('reads a header up to 16 KiB and refuses a longer one unread', async () => {
    const { server, token } = await boundServer();
    const options = { clientCertificateHeader: 'client-cert' } as const;
    const under = header(derSequence(12 * 1024 - 100));
    const over = header(derSequence(12 * 1024 + 100));
    expect(under.length).toBeLessThanOrEqual(16 * 1024);
    expect(over.length).toBeGreaterThan(16 * 1024);
    const read = await refusal(
      server.verifyRequest(requestFromNode(fromProxy(under, token), options)),
    );
    expect(read.detail).toMatch(/thumbprint is/);
    const unread = await refusal(
      server.verifyRequest(requestFromNode(fromProxy(over, token), options)),
    );
    expect(unread).toMatchObject({ reason: 'certificate' });
    expect(unread.detail).toMatch(/longer than 16384 characters/);
  });

  it('treats a request naming another header as a fault of the caller, not a refusal', async () => {
    const { server, token } = await boundServer();
    const request = {
      ...requestFromNode(fromProxy(header(pki.client.der), token)),
      clientCertificateHeader: 'x-client-cert',
    };
    // @ts-expect-error -- only the RFC 9440 header is read
    const error: unknown = await server.verifyRequest(request).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(TokenError);
  });

  it('refuses an unknown option and another header name with an OptionError', () => {
    const unknown = (() => {
      try {
        // @ts-expect-error -- not an option of requestFromNode
        requestFromNode(nodeRequest(), { clientCertHeader: 'client-cert' });
      } catch (failure) {
        return failure;
      }
      return undefined;
    })();
    expect(unknown).toBeInstanceOf(OptionError);
    expect(unknown).toMatchObject({ code: 'ERR_UNKNOWN_OPTION' });
    expect((unknown as Error).message).toMatch(/clientCertificateHeader/);
    expect(() =>
      // @ts-expect-error -- only the RFC 9440 header is read
      requestFromNode(nodeRequest(), { clientCertificateHeader: 'x-ssl-client-cert' }),
    ).toThrow(OptionError);
  });
});
