import { describe, expect, it } from 'vitest';
import { isLoopbackHost, isRefusedInsecureHttp } from '../../../src/runtime/shared/url.js';

describe('isLoopbackHost', () => {
  it.each(['localhost', 'LOCALHOST', 'api.localhost', '127.0.0.1', '127.1.2.3', '[::1]'])('counts %s as loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['example.com', 'localhost.example.com', '128.0.0.1', '127.0.0.1.nip.io', '10.0.0.1', '[::2]', '127.0.0.256'])(
    'does not count %s as loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );
});

describe('isRefusedInsecureHttp', () => {
  it('refuses http: to a public host unless insecure HTTP is allowed', () => {
    expect(isRefusedInsecureHttp(new URL('http://idp.example.com/'), false)).toBe(true);
    expect(isRefusedInsecureHttp(new URL('http://idp.example.com/'), true)).toBe(false);
  });

  it('lets https: and loopback http: through', () => {
    expect(isRefusedInsecureHttp(new URL('https://idp.example.com/'), false)).toBe(false);
    expect(isRefusedInsecureHttp(new URL('http://127.0.0.1:8080/'), false)).toBe(false);
    expect(isRefusedInsecureHttp(new URL('http://[::1]:8080/'), false)).toBe(false);
  });
});
