/** The `{ method, url, headers }` the Hono adapter hands to `verifyRequest`, from a `Request`. */
import { describe, expect, it } from 'vitest';
import { webRequestParts } from '../../../src/runtime/middleware/web-request.js';

const direct = { publicOrigin: undefined, trustProxy: false };

describe('webRequestParts', () => {
  it('keeps the method, the absolute URL and the headers object of the request', () => {
    const request = new Request('http://127.0.0.1:8787/orders/42?x=1', {
      method: 'DELETE',
      headers: { authorization: 'DPoP abc', dpop: 'proof' },
    });
    const parts = webRequestParts(request, direct);
    expect(parts.method).toBe('DELETE');
    expect(parts.url).toBe('http://127.0.0.1:8787/orders/42?x=1');
    expect(parts.headers).toBe(request.headers);
  });

  it('replaces the origin with the pinned public one', () => {
    const request = new Request('http://127.0.0.1:8787/orders/42');
    expect(
      webRequestParts(request, { publicOrigin: 'https://api.example.test', trustProxy: false }).url,
    ).toBe('https://api.example.test/orders/42');
  });

  it('reads the forwarded scheme and host only when the proxy is trusted', () => {
    const request = new Request('http://internal:8787/orders', {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.test' },
    });
    expect(webRequestParts(request, direct).url).toBe('http://internal:8787/orders');
    expect(webRequestParts(request, { publicOrigin: undefined, trustProxy: true }).url).toBe(
      'https://api.example.test/orders',
    );
  });
});
