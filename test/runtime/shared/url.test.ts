import { describe, expect, it } from 'vitest';
import {
  isLoopbackHost,
  isRefusedInsecureHttp,
  parseHttpUrl,
  requireHttpUrl,
} from '../../../src/runtime/shared/url.js';

describe('isLoopbackHost', () => {
  it.each(['localhost', 'LOCALHOST', 'api.localhost', '127.0.0.1', '127.1.2.3', '[::1]'])(
    'counts %s as loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(true);
    },
  );

  it.each([
    'example.com',
    'localhost.example.com',
    '128.0.0.1',
    '127.0.0.1.nip.io',
    '10.0.0.1',
    '[::2]',
    '127.0.0.256',
  ])('does not count %s as loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
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

describe('parseHttpUrl', () => {
  it.each(['https://idp.example.com/', 'http://127.0.0.1:8080/x?y#z', 'HTTPS://IDP.example.com'])(
    'parses the absolute http(s) URL %s',
    (value) => {
      expect(parseHttpUrl(value)).toBeInstanceOf(URL);
    },
  );

  it.each([
    '',
    '/relative',
    'idp.example.com',
    'ftp://idp.example.com',
    'javascript:alert(1)',
    'file:///etc/passwd',
  ])('refuses %j', (value) => {
    expect(parseHttpUrl(value)).toBeUndefined();
  });
});

describe('requireHttpUrl', () => {
  const strict = { allowInsecureHttp: false };

  it('returns the URL exactly as given', () => {
    expect(requireHttpUrl('https://IDP.example.com/tenant/', 'issuer', 'f', strict)).toBe(
      'https://IDP.example.com/tenant/',
    );
  });

  it('refuses plain HTTP to a public host, naming the option and the way out, not the URL', () => {
    expect(() =>
      requireHttpUrl('http://idp.example.com/t', 'issuer', 'createThing', strict),
    ).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INSECURE_HTTP',
        option: 'issuer',
        message: expect.stringMatching(
          /^createThing: `issuer` uses http: .*`allowInsecureHttp: true`/,
        ),
      }),
    );
    expect(() => requireHttpUrl('http://idp.example.com/t', 'issuer', 'f', strict)).not.toThrow(
      /idp\.example\.com/,
    );
  });

  it('accepts plain HTTP to loopback, and to any host when allowed', () => {
    expect(requireHttpUrl('http://[::1]:9000', 'issuer', 'f', strict)).toBe('http://[::1]:9000');
    expect(
      requireHttpUrl('http://idp.example.com', 'issuer', 'f', { allowInsecureHttp: true }),
    ).toBe('http://idp.example.com');
  });

  it.each([
    [42, /must be a non-empty string/],
    ['', /must be a non-empty string/],
    ['idp.example.com', /must be an absolute http\(s\) URL/],
    ['ftp://idp.example.com', /must be an absolute http\(s\) URL/],
    ['https://user:hunter2@idp.example.com', /must not carry credentials/],
  ])('refuses %j with a TypeError naming the option', (value, message) => {
    expect(() => requireHttpUrl(value, 'jwksUri', 'f', strict)).toThrow(message);
    expect(() => requireHttpUrl(value, 'jwksUri', 'f', strict)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'jwksUri' }),
    );
    expect(() => requireHttpUrl(value, 'jwksUri', 'f', strict)).not.toThrow(/hunter2/);
  });
});
