/** The `{ method, url, headers }` the Node adapters hand to `verifyRequest`, from a Node request. */
import { describe, expect, it } from 'vitest';
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
