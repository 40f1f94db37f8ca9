import { describe, expect, it } from 'vitest';
import { challengeParameter } from '../../../src/runtime/shared/challenge.js';
import { formatChallenge } from '../../../src/runtime/server/www-authenticate.js';

describe('challengeParameter', () => {
  it('reads back every parameter formatChallenge wrote', () => {
    const header = formatChallenge('DPoP', {
      realm: 'api',
      error: 'invalid_dpop_proof',
      error_description: 'the proof has been used before',
      algs: 'ES256 EdDSA',
    });
    expect(challengeParameter(header, 'realm')).toBe('api');
    expect(challengeParameter(header, 'error')).toBe('invalid_dpop_proof');
    expect(challengeParameter(header, 'error_description')).toBe('the proof has been used before');
    expect(challengeParameter(header, 'algs')).toBe('ES256 EdDSA');
  });

  it('reads token values, case-insensitive names and undoes quoted-pair escapes', () => {
    expect(challengeParameter('Bearer ERROR=invalid_token', 'error')).toBe('invalid_token');
    expect(challengeParameter('Bearer realm = "a \\"b\\" c"', 'realm')).toBe('a "b" c');
  });

  it('is undefined for a missing header, a bare scheme or a parameter not there', () => {
    expect(challengeParameter(null, 'error')).toBeUndefined();
    expect(challengeParameter('', 'error')).toBeUndefined();
    expect(challengeParameter('Bearer', 'error')).toBeUndefined();
    expect(challengeParameter('Bearer realm="api"', 'error')).toBeUndefined();
  });

  it('does not take a parameter name at the end of another name for that parameter', () => {
    expect(challengeParameter('Bearer x_error="forged"', 'error')).toBeUndefined();
  });

  it('never reads a parameter out of the quoted value of another', () => {
    const header =
      'Bearer error_description="see error=\\"forged\\", error=\\"x\\"", error="invalid_token"';
    expect(challengeParameter(header, 'error')).toBe('invalid_token');
    expect(challengeParameter('Bearer realm="a, error=forged"', 'error')).toBeUndefined();
  });

  it('reads the first of several challenges that name the parameter', () => {
    expect(
      challengeParameter('Bearer error="insufficient_scope", DPoP error="use_dpop_nonce"', 'error'),
    ).toBe('insufficient_scope');
  });
});
