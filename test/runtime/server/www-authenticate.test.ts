import { describe, expect, it } from 'vitest';
import { TokenError } from '../../../src/runtime/token-error.js';
import {
  Rejection,
  toTokenError,
  type ChallengeContext,
} from '../../../src/runtime/server/rejection.js';
import { formatChallenge } from '../../../src/runtime/server/www-authenticate.js';

const bearer: ChallengeContext = {
  scheme: 'Bearer',
  offered: ['Bearer'],
  realm: undefined,
  dpopAlgs: 'ES256 EdDSA',
};

describe('formatChallenge', () => {
  it('writes the bare scheme when there are no parameters', () => {
    expect(formatChallenge('Bearer', {})).toBe('Bearer');
  });

  it('writes parameters in a fixed order, quoted', () => {
    expect(
      formatChallenge('DPoP', {
        algs: 'ES256',
        error: 'invalid_token',
        realm: 'api',
        error_description: 'expired',
      }),
    ).toBe('DPoP realm="api", error="invalid_token", error_description="expired", algs="ES256"');
  });

  it('cannot be made to break out of a quoted string or split the header', () => {
    const header = formatChallenge('Bearer', { error_description: 'a"b\\c\r\nSet-Cookie: x=1é' });
    expect(header).toBe('Bearer error_description="a b c  Set-Cookie: x=1 "');
  });
});

describe('toTokenError', () => {
  it('answers a request without credentials with every offered scheme and no error code', () => {
    const error = toTokenError(new Rejection('missing', 'no access token', { error: null }), {
      ...bearer,
      scheme: undefined,
      offered: ['Bearer', 'DPoP'],
      realm: 'orders',
    });
    expect(error.status).toBe(401);
    expect(error.wwwAuthenticate).toBe(
      'Bearer realm="orders", DPoP realm="orders", algs="ES256 EdDSA"',
    );
  });

  it('answers a bad token with invalid_token in the scheme the client used', () => {
    const error = toTokenError(new Rejection('expired', 'the token has expired'), bearer);
    expect(error).toBeInstanceOf(TokenError);
    expect(error.reason).toBe('expired');
    expect(error.wwwAuthenticate).toBe(
      'Bearer error="invalid_token", error_description="the token has expired"',
    );
  });

  it('answers a missing scope with 403 insufficient_scope and the scope needed', () => {
    const error = toTokenError(
      new Rejection('scope', 'the token lacks a required scope', {
        error: 'insufficient_scope',
        scope: 'a b',
      }),
      bearer,
    );
    expect(error.status).toBe(403);
    expect(error.wwwAuthenticate).toBe(
      'Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="a b"',
    );
  });

  it('adds algs to DPoP challenges and hands the nonce over', () => {
    const error = toTokenError(
      new Rejection('dpop_nonce', 'nonce needed', { error: 'use_dpop_nonce', nonce: 'n-1' }),
      { ...bearer, scheme: 'DPoP' },
    );
    expect(error.wwwAuthenticate).toBe(
      'DPoP error="use_dpop_nonce", error_description="nonce needed", algs="ES256 EdDSA"',
    );
    expect(error.dpopNonce).toBe('n-1');
  });

  it('rethrows anything that is not a refusal unchanged, rather than calling it malformed', () => {
    const bug = new RangeError('boom');
    let thrown: unknown;
    try {
      toTokenError(bug, bearer);
    } catch (failure) {
      thrown = failure;
    }
    expect(thrown).toBe(bug);
    expect(thrown).not.toBeInstanceOf(TokenError);
  });
});

describe('TokenError fields', () => {
  it('carries the challenge error code and description as fields', async () => {
    const { createResourceServer, TokenError } = await import('../../../src/server.js');
    const server = createResourceServer({
      issuer: 'https://idp.example.test',
      audience: 'https://api.example.test',
      jwksUri: 'https://idp.example.test/jwks',
      fetch: async () => Response.json({ keys: [] }),
    });
    const malformed = await server.verifyToken('not-a-token').catch((e: unknown) => e);
    expect(malformed).toBeInstanceOf(TokenError);
    expect(malformed).toMatchObject({
      error: 'invalid_token',
      errorDescription: expect.any(String),
    });
    expect((malformed as InstanceType<typeof TokenError>).wwwAuthenticate).toContain(
      `error_description="${(malformed as InstanceType<typeof TokenError>).errorDescription}"`,
    );
    const missing = await server
      .verifyRequest({ method: 'GET', url: 'https://api.example.test/', headers: {} })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({
      reason: 'missing',
      error: undefined,
      errorDescription: undefined,
    });
  });
});
