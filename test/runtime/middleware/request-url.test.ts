/** The URL a DPoP proof is checked against, rebuilt from what the framework saw. */
import { describe, expect, it } from 'vitest';
import {
  publicRequestUrl,
  type IncomingTarget,
} from '../../../src/runtime/middleware/request-url.js';

function incoming(overrides: Partial<IncomingTarget> & { headers?: Record<string, string> } = {}) {
  const { headers = {}, ...rest } = overrides;
  return {
    secure: false,
    host: '127.0.0.1:8080',
    target: '/api/orders/42?expand=lines',
    header: (name: string) => headers[name],
    ...rest,
  } satisfies IncomingTarget;
}

const direct = { publicOrigin: undefined, trustProxy: false };

describe('publicRequestUrl', () => {
  it('joins the connection scheme, the Host header and the target', () => {
    expect(publicRequestUrl(incoming(), direct)).toBe(
      'http://127.0.0.1:8080/api/orders/42?expand=lines',
    );
    expect(publicRequestUrl(incoming({ secure: true, host: 'api.example.com' }), direct)).toBe(
      'https://api.example.com/api/orders/42?expand=lines',
    );
  });

  it('puts the pinned public origin in front of the target', () => {
    const options = { publicOrigin: 'https://api.example.com', trustProxy: false };
    expect(publicRequestUrl(incoming(), options)).toBe(
      'https://api.example.com/api/orders/42?expand=lines',
    );
  });

  it('prefers the pinned origin over forwarded headers', () => {
    const options = { publicOrigin: 'https://api.example.com', trustProxy: true };
    const request = incoming({ headers: { 'x-forwarded-host': 'other.example.com' } });
    expect(publicRequestUrl(request, options)).toMatch(/^https:\/\/api\.example\.com\//);
  });

  it('reads the first X-Forwarded-Proto and X-Forwarded-Host value only with trustProxy', () => {
    const request = incoming({
      headers: {
        'x-forwarded-proto': 'HTTPS, http',
        'x-forwarded-host': 'api.example.com:8443 , internal.example',
      },
    });
    expect(publicRequestUrl(request, { publicOrigin: undefined, trustProxy: true })).toBe(
      'https://api.example.com:8443/api/orders/42?expand=lines',
    );
    expect(publicRequestUrl(request, direct)).toBe(
      'http://127.0.0.1:8080/api/orders/42?expand=lines',
    );
  });

  it('keeps the connection scheme or Host for a forwarded header that is absent', () => {
    const options = { publicOrigin: undefined, trustProxy: true };
    expect(publicRequestUrl(incoming({ headers: { 'x-forwarded-proto': 'https' } }), options)).toBe(
      'https://127.0.0.1:8080/api/orders/42?expand=lines',
    );
    expect(
      publicRequestUrl(incoming({ headers: { 'x-forwarded-host': 'api.example.com' } }), options),
    ).toBe('http://api.example.com/api/orders/42?expand=lines');
  });

  it('returns the bare target when no trustworthy origin can be formed', () => {
    const trusting = { publicOrigin: undefined, trustProxy: true };
    // No Host, or one that would move the path or the host of the URL.
    expect(publicRequestUrl(incoming({ host: undefined }), direct)).toBe(
      '/api/orders/42?expand=lines',
    );
    for (const host of ['evil.example/x?', 'user@api.example.com', 'api.example.com x', '']) {
      expect(publicRequestUrl(incoming({ host }), direct), host).toBe(
        '/api/orders/42?expand=lines',
      );
    }
    expect(publicRequestUrl(incoming({ headers: { 'x-forwarded-proto': 'ftp' } }), trusting)).toBe(
      '/api/orders/42?expand=lines',
    );
    expect(
      publicRequestUrl(incoming({ headers: { 'x-forwarded-host': 'a.example/b' } }), trusting),
    ).toBe('/api/orders/42?expand=lines');
  });

  it('accepts IPv6 literals with a port', () => {
    expect(publicRequestUrl(incoming({ host: '[::1]:3000' }), direct)).toBe(
      'http://[::1]:3000/api/orders/42?expand=lines',
    );
  });

  it('uses an absolute-form target as it is, and takes its path when the origin is pinned', () => {
    const absolute = incoming({ target: 'http://api.example.com/orders/1?x=2', host: 'ignored' });
    expect(publicRequestUrl(absolute, direct)).toBe('http://api.example.com/orders/1?x=2');
    expect(
      publicRequestUrl(absolute, { publicOrigin: 'https://public.example.com', trustProxy: false }),
    ).toBe('https://public.example.com/orders/1?x=2');
    expect(
      publicRequestUrl(
        { ...absolute, header: (name) => (name === 'x-forwarded-proto' ? 'https' : undefined) },
        { publicOrigin: undefined, trustProxy: true },
      ),
    ).toBe('https://api.example.com/orders/1?x=2');
  });

  it('leaves a target that is not a path, such as OPTIONS *, without an origin', () => {
    expect(publicRequestUrl(incoming({ target: '*' }), direct)).toBe('*');
    expect(
      publicRequestUrl(incoming({ target: '*' }), {
        publicOrigin: 'https://api.example.com',
        trustProxy: false,
      }),
    ).toBe('*');
  });

  it('keeps a target that starts with two slashes on the same host', () => {
    const url = publicRequestUrl(incoming({ target: '//evil.example/x' }), {
      publicOrigin: 'https://api.example.com',
      trustProxy: false,
    });
    expect(new URL(url).host).toBe('api.example.com');
  });
});
