/**
 * The error of token verification as a value: what the constructor keeps and what it defaults.
 * How each refusal fills it is tested with the resource server (test/runtime/server), and what
 * reaches the HTTP answer in test/runtime/server/www-authenticate.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../src/runtime/errors.js';
import { TokenError } from '../../src/runtime/token-error.js';

describe('TokenError', () => {
  it('is an AuthError that answers 401 unless told otherwise, with no cause of its own', () => {
    const error = new TokenError({
      reason: 'expired',
      wwwAuthenticate: 'Bearer error="invalid_token"',
      message: 'verifyToken: the token has expired',
    });
    expect(error).toBeInstanceOf(AuthError);
    expect(error.name).toBe('TokenError');
    expect(error.status).toBe(401);
    expect('cause' in error).toBe(false);
    expect(error).toMatchObject({
      reason: 'expired',
      retryAfter: undefined,
      claim: undefined,
      detail: undefined,
      dpopNonce: undefined,
      error: undefined,
      errorDescription: undefined,
    });
  });

  it('keeps every field it is given, and the cause', () => {
    const cause = new Error('key set unreachable');
    const init = {
      reason: 'jwks',
      status: 503,
      wwwAuthenticate: 'Bearer',
      message: 'verifyToken: the key set could not be had',
      retryAfter: 30,
      claim: 'sub',
      detail: 'kid "k1"',
      dpopNonce: 'n-1',
      error: 'temporarily_unavailable',
      errorDescription: 'try again later',
    } as const;
    const error = new TokenError({ ...init, cause });
    expect(error).toMatchObject(init);
    expect(error.cause).toBe(cause);
  });
});
