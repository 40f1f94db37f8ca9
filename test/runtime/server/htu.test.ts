import { describe, expect, it } from 'vitest';
import { normaliseHtu } from '../../../src/runtime/server/htu.js';

describe('normaliseHtu', () => {
  it.each([
    ['HTTPS://API.Example.TEST/orders', 'https://api.example.test/orders'],
    ['https://api.example.test:443/orders', 'https://api.example.test/orders'],
    ['http://api.example.test:80/orders', 'http://api.example.test/orders'],
    ['https://api.example.test/orders?page=2#top', 'https://api.example.test/orders'],
    ['https://api.example.test', 'https://api.example.test/'],
    ['https://api.example.test/a/./b/../orders', 'https://api.example.test/a/orders'],
    ['https://api.example.test/%7eme/%2f', 'https://api.example.test/~me/%2F'],
    ['https://api.example.test:8443/orders', 'https://api.example.test:8443/orders'],
  ])('reads %s as %s', (input, expected) => {
    expect(normaliseHtu(input)).toBe(expected);
  });

  it('keeps a non-default port and the path case apart', () => {
    expect(normaliseHtu('https://api.example.test:444/x')).not.toBe(
      normaliseHtu('https://api.example.test/x'),
    );
    expect(normaliseHtu('https://api.example.test/Orders')).not.toBe(
      normaliseHtu('https://api.example.test/orders'),
    );
  });

  it.each([
    ['a relative URL', '/orders'],
    ['another scheme', 'ftp://api.example.test/orders'],
    ['user information', 'https://user:pw@api.example.test/orders'],
    ['whitespace the URL parser would strip', ' https://api.example.test/orders'],
    ['a tab inside', 'https://api.example.test/or\tders'],
    ['garbage', 'http://'],
  ])('refuses %s', (_name, input) => {
    expect(normaliseHtu(input)).toBeUndefined();
  });
});
