/**
 * A fault is not a verdict on the token: an error thrown by a bug in the verifier, or by a hook
 * the caller injected (`now`, a request's `headers.get`), must come out of `verifyToken` and
 * `verifyRequest` as itself, never dressed up as a 401 `malformed` TokenError.
 */
import { describe, expect, it } from 'vitest';
import { TokenError, type ResourceServerEvent } from '../../../src/server.js';
import { manualClock } from '../../support/clock.js';
import { AUDIENCE, RESOURCE_URL, START, accessToken, setup } from './helpers.js';

/** A clock that works until `break()` is called, then throws `fault` on every reading. */
function breakableClock(fault: Error) {
  const clock = manualClock(START);
  let broken = false;
  return {
    now: () => {
      if (broken) throw fault;
      return clock.now();
    },
    seconds: () => clock.seconds(),
    break: () => {
      broken = true;
    },
  };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (failure: unknown) => failure,
  );
}

describe('a fault inside verification', () => {
  it('comes out of verifyToken as the TypeError the clock threw, not as a TokenError', async () => {
    const fault = new TypeError('clock exploded');
    const clock = breakableClock(fault);
    const events: ResourceServerEvent[] = [];
    const s = await setup({ now: clock.now, onEvent: (event) => events.push(event) });
    const token = await accessToken(s.key, clock.seconds());
    clock.break();

    const failure = await failureOf(s.server.verifyToken(token));

    expect(failure).toBe(fault);
    expect(failure).not.toBeInstanceOf(TokenError);
    expect(events.filter((event) => event.type === 'verification_failed')).toEqual([]);
  });

  it('comes out of verifyRequest as the error the request headers threw', async () => {
    const s = await setup();
    const fault = new TypeError('headers.get is broken');
    const headers = {
      get(): string | null {
        throw fault;
      },
    };

    const failure = await failureOf(
      s.server.verifyRequest({ method: 'GET', url: RESOURCE_URL, headers }),
    );

    expect(failure).toBe(fault);
    expect(failure).not.toBeInstanceOf(TokenError);
  });

  it('comes out of verifyRequest as the plain Error the clock threw while the token is checked', async () => {
    const fault = new Error('clock exploded');
    const clock = breakableClock(fault);
    const s = await setup({ now: clock.now });
    const token = await accessToken(s.key, clock.seconds());
    clock.break();

    const failure = await failureOf(
      s.server.verifyRequest(
        new Request(RESOURCE_URL, { headers: { authorization: `Bearer ${token}` } }),
      ),
    );

    expect(failure).toBe(fault);
  });

  it('still refuses a token that does not parse as a 401 malformed TokenError', async () => {
    const s = await setup();

    const failure = await failureOf(s.server.verifyToken('eyJhbGciOi.not-json.x'));

    expect(failure).toBeInstanceOf(TokenError);
    expect(failure).toMatchObject({ reason: 'malformed', status: 401, error: 'invalid_token' });
  });

  it('still refuses a token for another audience as a 401 audience TokenError', async () => {
    const s = await setup();
    const token = await accessToken(s.key, s.now(), { aud: 'https://other.example.test' });

    const failure = await failureOf(s.server.verifyToken(token, { audience: AUDIENCE }));

    expect(failure).toMatchObject({ reason: 'audience', status: 401 });
  });
});
