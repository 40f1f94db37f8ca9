/** What every middleware sends back for a TokenError. */
import { describe, expect, it } from 'vitest';
import { TokenError } from '../../../src/index.js';
import {
  isTokenError,
  rejectionResponse,
} from '../../../src/runtime/middleware/rejection-response.js';

function tokenError(init: Partial<ConstructorParameters<typeof TokenError>[0]> = {}) {
  return new TokenError({
    reason: 'expired',
    wwwAuthenticate: 'Bearer error="invalid_token", error_description="the token has expired"',
    message: 'access token rejected (expired): the token has expired',
    ...init,
  });
}

describe('rejectionResponse', () => {
  it('repeats the challenge error and description in the body, with no-store', () => {
    expect(rejectionResponse(tokenError())).toEqual({
      status: 401,
      headers: {
        'WWW-Authenticate':
          'Bearer error="invalid_token", error_description="the token has expired"',
        'Cache-Control': 'no-store',
      },
      body: { error: 'invalid_token', error_description: 'the token has expired' },
    });
  });

  it('reads error and error_description wherever they stand among the parameters', () => {
    const response = rejectionResponse(
      tokenError({
        reason: 'scope',
        status: 403,
        wwwAuthenticate:
          'Bearer realm="orders error", error_description="the token lacks a required scope", error="insufficient_scope", scope="orders:write"',
      }),
    );
    expect(response.status).toBe(403);
    expect(response.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'the token lacks a required scope',
    });
  });

  it('answers an unavailable key set with 503 and Retry-After, and no challenge', () => {
    const response = rejectionResponse(
      tokenError({
        reason: 'jwks',
        status: 503,
        retryAfter: 17,
        wwwAuthenticate: 'Bearer, DPoP algs="ES256"',
        error: 'temporarily_unavailable',
        errorDescription: 'the signing keys of the issuer are unavailable',
      }),
    );
    expect(response).toEqual({
      status: 503,
      headers: { 'Cache-Control': 'no-store', 'Retry-After': '17' },
      body: {
        error: 'temporarily_unavailable',
        error_description: 'the signing keys of the issuer are unavailable',
      },
    });
  });

  it('says Retry-After: 1 for a 503 from another copy of the package that has no retryAfter', () => {
    const foreign = Object.assign(tokenError({ reason: 'jwks', status: 503 }), {
      retryAfter: undefined,
    });
    expect(rejectionResponse(foreign).headers['Retry-After']).toBe('1');
  });

  it('sends the nonce to use next as DPoP-Nonce', () => {
    const response = rejectionResponse(
      tokenError({
        reason: 'dpop_nonce',
        wwwAuthenticate:
          'DPoP error="use_dpop_nonce", error_description="nonce needed", algs="ES256"',
        dpopNonce: 'n-0S6_WzA2Mj',
      }),
    );
    expect(response.headers['DPoP-Nonce']).toBe('n-0S6_WzA2Mj');
    expect(response.body.error).toBe('use_dpop_nonce');
  });

  it('answers a request without credentials with unauthorized, as its challenge names no error', () => {
    const response = rejectionResponse(
      tokenError({
        reason: 'missing',
        wwwAuthenticate: 'Bearer realm="api", DPoP algs="ES256 EdDSA"',
      }),
    );
    expect(response.body).toEqual({ error: 'unauthorized', error_description: 'no access token' });
    expect(response.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", DPoP algs="ES256 EdDSA"',
    );
    expect(response.headers).not.toHaveProperty('DPoP-Nonce');
  });

  it('leaves error_description out when the challenge has none', () => {
    const response = rejectionResponse(
      tokenError({ wwwAuthenticate: 'Bearer error="invalid_token"' }),
    );
    expect(response.body).toEqual({ error: 'invalid_token' });
  });
});

describe('isTokenError', () => {
  it('recognises a TokenError from another copy of the package by its fields', () => {
    const foreign = Object.assign(new Error('rejected'), {
      name: 'TokenError',
      status: 401,
      wwwAuthenticate: 'Bearer error="invalid_token"',
      reason: 'expired',
    });
    expect(isTokenError(tokenError())).toBe(true);
    expect(isTokenError(foreign)).toBe(true);
  });

  it('does not take other failures for rejections', () => {
    expect(isTokenError(new Error('boom'))).toBe(false);
    expect(isTokenError(new TypeError('bad option'))).toBe(false);
    expect(isTokenError({ name: 'TokenError', status: 500, wwwAuthenticate: 'x' })).toBe(false);
    expect(isTokenError({ name: 'TokenError', status: 401 })).toBe(false);
    expect(isTokenError(undefined)).toBe(false);
  });
});
