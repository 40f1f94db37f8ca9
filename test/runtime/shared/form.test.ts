import { describe, expect, it } from 'vitest';
import { basicCredentials, formEncode } from '../../../src/runtime/shared/form.js';

describe('form serialiser', () => {
  it('repeats array members and leaves undefined ones out', () => {
    expect(
      formEncode({
        grant_type: 'client_credentials',
        scope: undefined,
        resource: ['https://a/', 'https://b/'],
      }),
    ).toBe('grant_type=client_credentials&resource=https%3A%2F%2Fa%2F&resource=https%3A%2F%2Fb%2F');
  });

  it('encodes spaces as + and reserved characters as %XX', () => {
    expect(formEncode({ scope: 'a b', x: '&=+%' })).toBe('scope=a+b&x=%26%3D%2B%25');
  });
});

describe('client_secret_basic credentials (RFC 6749 §2.3.1)', () => {
  it('form-encodes id and secret before Base64', () => {
    expect(basicCredentials('s6BhdRkqt3', '7Fjfp0ZBr1KtDRbnfVdmIw')).toBe(
      'Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3',
    );
    expect(atob(basicCredentials('a:b', 'c d/é').slice(6))).toBe('a%3Ab:c+d%2F%C3%A9');
  });
});
