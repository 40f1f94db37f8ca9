import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { scrubCredentials } from '../../../src/runtime/shared/scrub-error.js';

const token = 'tok-7f3a9c-credential-value';

function headersError(value: string): unknown {
  try {
    new Headers().set('Authorization', value);
  } catch (error) {
    return error;
  }
  throw new Error('Headers took a value with a line break');
}

describe('scrubCredentials', () => {
  it('takes the token out of the TypeError that Headers raises for a value it cannot send', () => {
    const original = headersError(`Bearer ${token}\r\nX-Forged: 1`);
    expect(inspect(original)).toContain(token);
    const scrubbed = scrubCredentials(original, [token]);
    expect(scrubbed).toBeInstanceOf(TypeError);
    expect(inspect(scrubbed, { depth: 10, showHidden: true })).not.toContain(token);
    expect((scrubbed as Error).message).toContain('[redacted]');
  });

  it('keeps class, name, code and the cause chain, with the credential gone from each link', () => {
    class FetchFailure extends Error {
      override name = 'FetchFailure';
      code = 'E_FETCH';
    }
    const root = Object.assign(
      new Error(`header authorization=${encodeURIComponent(`DPoP ${token}`)}`),
      { code: 'ECONNRESET' },
    );
    const middle = new AggregateError(
      [new RangeError(`retry with "${token}"`)],
      'all attempts failed',
      { cause: root },
    );
    const original = new FetchFailure(`request failed`, { cause: middle });
    const scrubbed = scrubCredentials(original, [token]) as FetchFailure;
    expect(scrubbed).not.toBe(original);
    expect(scrubbed).toBeInstanceOf(FetchFailure);
    expect(scrubbed).toMatchObject({
      name: 'FetchFailure',
      code: 'E_FETCH',
      message: 'request failed',
    });
    const cause = scrubbed.cause as AggregateError;
    expect(cause).toBeInstanceOf(AggregateError);
    expect(cause.errors[0]).toBeInstanceOf(RangeError);
    expect(cause.cause).toMatchObject({
      code: 'ECONNRESET',
      message: expect.stringContaining('[redacted]'),
    });
    expect(inspect(scrubbed, { depth: 10, showHidden: true })).not.toContain(token);
    expect(inspect(scrubbed, { depth: 10, showHidden: true })).not.toContain(
      encodeURIComponent(token),
    );
  });

  it('returns an error that holds no credential as it is', () => {
    const clean = new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    expect(scrubCredentials(clean, [token])).toBe(clean);
    const aborted = new DOMException('aborted', 'AbortError');
    expect(scrubCredentials(aborted, [token])).toBe(aborted);
  });

  it('rebuilds a DOMException and scrubs a thrown string', () => {
    const scrubbed = scrubCredentials(new DOMException(`bad header ${token}`, 'SyntaxError'), [
      token,
    ]);
    expect(scrubbed).toBeInstanceOf(DOMException);
    expect(scrubbed).toMatchObject({ name: 'SyntaxError', message: 'bad header [redacted]' });
    expect(scrubCredentials(`failed with ${token}`, [token])).toBe('failed with [redacted]');
  });

  it('withholds a thrown plain object that holds a credential, and survives a cycle', () => {
    expect(String(scrubCredentials({ headers: { authorization: token } }, [token]))).not.toContain(
      token,
    );
    const looped = new Error(`oops ${token}`) as Error & { cause?: unknown };
    looped.cause = looped;
    expect(inspect(scrubCredentials(looped, [token]), { depth: 20 })).not.toContain(token);
  });
});
