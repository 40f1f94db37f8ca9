/**
 * Token type identifiers of token exchange (RFC 8693 §3, RFC 7519 §9).
 */
import { describe, expect, it } from 'vitest';
import { isTokenTypeUri, TokenTypes } from '../../../src/runtime/client/token-types.js';

describe('TokenTypes', () => {
  it('holds the URIs RFC 8693 §3 registers, and the JWT one of RFC 7519 §9', () => {
    expect(TokenTypes).toEqual({
      accessToken: 'urn:ietf:params:oauth:token-type:access_token',
      refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
      idToken: 'urn:ietf:params:oauth:token-type:id_token',
      saml1: 'urn:ietf:params:oauth:token-type:saml1',
      saml2: 'urn:ietf:params:oauth:token-type:saml2',
      jwt: 'urn:ietf:params:oauth:token-type:jwt',
    });
  });

  it('cannot be changed by the application', () => {
    expect(Object.isFrozen(TokenTypes)).toBe(true);
    expect(() => {
      (TokenTypes as Record<string, string>).accessToken = 'urn:example:forged';
    }).toThrow(TypeError);
  });
});

describe('isTokenTypeUri', () => {
  it('takes every registered token type and a server-defined absolute URI', () => {
    for (const type of Object.values(TokenTypes)) expect(isTokenTypeUri(type)).toBe(true);
    expect(isTokenTypeUri('https://idp.example.test/token-types/session')).toBe(true);
  });

  it('refuses a bare word, whitespace, control characters, non-strings and overlong values', () => {
    expect(isTokenTypeUri('access_token')).toBe(false);
    expect(isTokenTypeUri('urn:ietf:params:oauth:token-type:access_token ')).toBe(false);
    expect(isTokenTypeUri('urn:example:a\nb')).toBe(false);
    expect(isTokenTypeUri('')).toBe(false);
    expect(isTokenTypeUri(42)).toBe(false);
    expect(isTokenTypeUri(`urn:example:${'x'.repeat(600)}`)).toBe(false);
  });
});
