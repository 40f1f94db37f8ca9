/**
 * How a failed fetch is described: the machine code and the words come from the error's own
 * name or from the first system code along its `cause` chain, and never from the request.
 * idp-client.test.ts checks the same through a whole exchange, with every socket code.
 */
import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../../src/runtime/transport/network-failure.js';

const target = "the authorization server's token endpoint (https://idp.example.test/token)";

const withCode = (code: unknown, cause?: unknown) =>
  Object.assign(new Error('low-level failure'), { code }, cause === undefined ? {} : { cause });

describe('describeFailure', () => {
  it('says a TimeoutError did not answer within the timeout', () => {
    expect(describeFailure(new DOMException('late', 'TimeoutError'), target, 1500)).toEqual({
      code: 'timeout',
      message: `${target} did not answer within 1500 ms`,
    });
  });

  it('says an AbortError was aborted', () => {
    expect(describeFailure(new DOMException('stop', 'AbortError'), target, 1500)).toEqual({
      code: 'aborted',
      message: `the request to ${target} was aborted`,
    });
  });

  it('reads the system code on the error itself and through up to three causes', () => {
    expect(describeFailure(withCode('ECONNREFUSED'), target, 1).code).toBe('refused');
    const deep = new TypeError('fetch failed', {
      cause: new Error('a', { cause: new Error('b', { cause: withCode('ENOTFOUND') }) }),
    });
    expect(describeFailure(deep, target, 1)).toEqual({
      code: 'dns',
      message: `could not reach ${target}: host name not found (ENOTFOUND)`,
    });
  });

  it('stops looking past four levels, and then says only that it could not reach the server', () => {
    const tooDeep = new Error('0', {
      cause: new Error('1', {
        cause: new Error('2', { cause: new Error('3', { cause: withCode('ECONNRESET') }) }),
      }),
    });
    expect(describeFailure(tooDeep, target, 1)).toEqual({
      code: 'failed',
      message: `could not reach ${target}`,
    });
  });

  it('ignores a code that is not a string, and a thrown value that is not an error', () => {
    expect(describeFailure(withCode(111), target, 1).code).toBe('failed');
    expect(describeFailure('a string', target, 1)).toEqual({
      code: 'failed',
      message: `could not reach ${target}`,
    });
    expect(describeFailure(undefined, target, 1).code).toBe('failed');
  });

  it('never repeats the low-level message, which may hold what the request sent', () => {
    const error = Object.assign(new Error('connect to https://idp/?client_secret=s3cr3t'), {
      code: 'EWHATEVER',
    });
    expect(describeFailure(error, target, 1).message).not.toContain('s3cr3t');
  });
});
