/**
 * External client assertions (RFC 7521 §4.2, RFC 7523 §2.2): one asked of its source for every
 * token request, checked for the shape of a compact JWS, its `exp` read without trusting it, and
 * never any part of it in an error.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  createClientAssertionAuthenticator,
  createClientAssertionProvider,
  earlierExpiry,
  JWT_BEARER_ASSERTION_TYPE,
  readClientAssertion,
  readUnverifiedExpiry,
  resolveClientAssertionType,
} from '../../../src/runtime/client/client-assertion.js';
import {
  AuthError,
  ClientAssertionError,
  MAX_CLIENT_ASSERTION_LENGTH,
} from '../../../src/runtime/errors.js';
import { OptionError } from '../../../src/runtime/shared/options.js';
import { manualClock } from '../fake-fetch.js';

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWS-shaped workload token; the signature is made up (nothing here verifies it). */
function assertion(
  payload: Record<string, unknown> = {},
  header: Record<string, unknown> = { alg: 'RS256', kid: 'k8s-1' },
): string {
  return `${b64(header)}.${b64({ iss: 'https://kubernetes.default.svc', sub: 'system:serviceaccount:orders:worker', ...payload })}.${b64('signature-bytes-of-the-workload-issuer')}`;
}

const clock = manualClock();
const nowSeconds = Math.floor(clock.now().getTime() / 1000);

function thrown(run: () => unknown): ClientAssertionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ClientAssertionError);
    expect(error).toBeInstanceOf(AuthError);
    return error as ClientAssertionError;
  }
  throw new Error('expected a ClientAssertionError');
}

async function rejected(promise: Promise<unknown>): Promise<ClientAssertionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientAssertionError);
  return error as ClientAssertionError;
}

/** Every string an error shows: message, fields and inspect output. */
function everything(error: unknown): string {
  return `${String(error)} ${JSON.stringify(error)} ${inspect(error, { depth: 5 })}`;
}

describe('readClientAssertion', () => {
  it('returns a well-formed assertion exactly as given, with its exp', () => {
    const value = assertion({ exp: nowSeconds + 600 });
    expect(readClientAssertion(value, 'the source', clock.now)).toEqual({
      value,
      expiresAt: nowSeconds + 600,
    });
  });

  it('has no expiry for an assertion without a numeric exp', () => {
    expect(readClientAssertion(assertion(), 'the source').expiresAt).toBeUndefined();
    expect(readClientAssertion(assertion({ exp: '9999999999' }), 'the source').expiresAt).toBe(
      undefined,
    );
  });

  it('refuses a value that is not a string, naming its type', () => {
    const error = thrown(() => readClientAssertion(undefined, 'the source'));
    expect(error.code).toBe('invalid');
    expect(error.message).toContain('gave undefined');
  });

  it('refuses two parts, four parts and an empty signature as not a compact JWS', () => {
    const [header, payload] = assertion().split('.');
    for (const value of [`${header}.${payload}`, `${assertion()}.extra`, `${header}.${payload}.`]) {
      const error = thrown(() => readClientAssertion(value, 'the source'));
      expect(error.code).toBe('invalid');
      expect(error.message).toMatch(/not a compact JWS/);
    }
  });

  it('refuses characters outside base64url, such as a trailing newline', () => {
    const error = thrown(() => readClientAssertion(`${assertion()}\n`, 'the source'));
    expect(error.code).toBe('invalid');
  });

  it('refuses a header or payload that is not a JSON object', () => {
    const signature = b64('sig');
    const badHeader = `${b64('[1,2]')}.${b64({ sub: 'x' })}.${signature}`;
    expect(thrown(() => readClientAssertion(badHeader, 'the source')).message).toContain('header');
    const badPayload = `${b64({ alg: 'RS256' })}.${b64('not json')}.${signature}`;
    expect(thrown(() => readClientAssertion(badPayload, 'the source')).message).toContain(
      'payload',
    );
  });

  it('refuses an unsecured JWT (alg none, in any case) and a header without alg', () => {
    for (const header of [{ alg: 'none' }, { alg: 'NONE' }, { typ: 'JWT' }, { alg: '' }]) {
      const error = thrown(() => readClientAssertion(assertion({}, header), 'the source'));
      expect(error.code).toBe('invalid');
      expect(error.message).toMatch(/alg/);
    }
  });

  it('refuses an assertion over the length limit without reading it', () => {
    const value = assertion({ pad: 'x'.repeat(MAX_CLIENT_ASSERTION_LENGTH) });
    const error = thrown(() => readClientAssertion(value, 'the source'));
    expect(error.code).toBe('too_large');
    expect(error.message).toContain(`${value.length} characters`);
  });

  it('refuses an assertion whose exp has passed on the injected clock, saying by how much', () => {
    const error = thrown(() =>
      readClientAssertion(
        assertion({ exp: nowSeconds - 90 }),
        'the file /var/run/token',
        clock.now,
      ),
    );
    expect(error.code).toBe('expired');
    expect(error.message).toContain('the file /var/run/token');
    expect(error.message).toContain('expired 90 s ago');
  });

  it('refuses an assertion that expires this very second', () => {
    const error = thrown(() =>
      readClientAssertion(assertion({ exp: nowSeconds }), 'the source', clock.now),
    );
    expect(error.code).toBe('expired');
  });

  it('never puts any part of the assertion in its errors', () => {
    const payloadSecret = 'workload-secret-claim-7f3a91';
    const bad = [
      `${b64({ alg: 'none' })}.${b64({ secret: payloadSecret })}.${b64('sig')}`,
      `${b64({ alg: 'RS256' })}.${b64({ secret: payloadSecret, exp: nowSeconds - 1 })}.${b64('sig')}`,
      `${b64({ alg: 'RS256' })}.${b64({ secret: payloadSecret })}`,
    ];
    for (const value of bad) {
      const error = thrown(() => readClientAssertion(value, 'the source', clock.now));
      const text = everything(error);
      for (const part of value.split('.')) expect(text).not.toContain(part);
      expect(text).not.toContain(payloadSecret);
    }
  });
});

describe('readUnverifiedExpiry', () => {
  it('reads the exp of a JWT and nothing of anything else', () => {
    expect(readUnverifiedExpiry(assertion({ exp: 1_900_000_000 }))).toBe(1_900_000_000);
    expect(readUnverifiedExpiry(assertion({ exp: 1_900_000_000.9 }))).toBe(1_900_000_000);
    expect(readUnverifiedExpiry('2YotnFZFEjr1zCsicMWpAA')).toBeUndefined();
    expect(readUnverifiedExpiry(`${assertion({ exp: 1 })}.more`)).toBeUndefined();
    expect(readUnverifiedExpiry(assertion({ exp: Number.MAX_VALUE * 2 }))).toBeUndefined();
  });
});

describe('earlierExpiry', () => {
  it('takes the earlier time, and a known time over an unknown one', () => {
    expect(earlierExpiry(100, 50)).toBe(50);
    expect(earlierExpiry(100, undefined)).toBe(100);
    expect(earlierExpiry(undefined, 50)).toBe(50);
    expect(earlierExpiry(undefined, undefined)).toBeUndefined();
  });
});

describe('createClientAssertionProvider', () => {
  it('sends the jwt-bearer assertion type by default', () => {
    expect(JWT_BEARER_ASSERTION_TYPE).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
  });

  it('checks a string assertion when the client is made, as an option error naming the option', () => {
    let error: unknown;
    try {
      createClientAssertionProvider('not-a-jwt', 'createAuthClient', clock.now);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'clientAssertion' });
    expect(String(error)).not.toContain('not-a-jwt');
  });

  it('refuses a source that is neither a string nor a function', () => {
    expect(() => createClientAssertionProvider(42, 'createAuthClient', clock.now)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'clientAssertion' }),
    );
  });

  it('calls a function source for every request and keeps none of its answers', async () => {
    let calls = 0;
    const provider = createClientAssertionProvider(
      () => assertion({ n: ++calls, exp: nowSeconds + 60 }),
      'createAuthClient',
      clock.now,
    );
    const first = await provider.next();
    const second = await provider.next();
    expect(calls).toBe(2);
    expect(first.value).not.toBe(second.value);
  });

  it('awaits an async function source', async () => {
    const value = assertion({ exp: nowSeconds + 60 });
    const provider = createClientAssertionProvider(
      async () => value,
      'createAuthClient',
      clock.now,
    );
    await expect(provider.next()).resolves.toEqual({ value, expiresAt: nowSeconds + 60 });
  });

  it('refuses a function answer that is not an assertion, naming the function as the source', async () => {
    const provider = createClientAssertionProvider(() => '', 'createAuthClient', clock.now);
    const error = await rejected(provider.next());
    expect(error.code).toBe('invalid');
    expect(error.message).toContain('the `clientAssertion` function');
  });

  it('re-checks a string assertion’s exp on every request', async () => {
    const local = manualClock();
    const value = assertion({ exp: Math.floor(local.now().getTime() / 1000) + 30 });
    const provider = createClientAssertionProvider(value, 'createAuthClient', local.now);
    await expect(provider.next()).resolves.toMatchObject({ value });
    local.advance(31);
    expect((await rejected(provider.next())).code).toBe('expired');
  });

  it('turns a throwing function into source_failed, keeping the error as cause but not its message', async () => {
    const failure = new Error(`could not read ${assertion()}`);
    const provider = createClientAssertionProvider(
      () => {
        throw failure;
      },
      'createAuthClient',
      clock.now,
    );
    const error = await rejected(provider.next());
    expect(error.code).toBe('source_failed');
    expect(error.cause).toBe(failure);
    expect(error.message).toBe('the `clientAssertion` function threw (Error)');
  });

  it('passes a ClientAssertionError of the source on unchanged', async () => {
    const failure = new ClientAssertionError('no file', 'file_not_found');
    const provider = createClientAssertionProvider(
      () => Promise.reject(failure),
      'createAuthClient',
      clock.now,
    );
    expect(await rejected(provider.next())).toBe(failure);
  });
});

describe('resolveClientAssertionType', () => {
  it('defaults to the jwt-bearer type and takes another absolute URI', () => {
    expect(resolveClientAssertionType(undefined, 'createAuthClient')).toBe(
      JWT_BEARER_ASSERTION_TYPE,
    );
    expect(
      resolveClientAssertionType(
        'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
        'createAuthClient',
      ),
    ).toBe('urn:ietf:params:oauth:client-assertion-type:saml2-bearer');
  });

  it('refuses a value that is not an absolute URI, naming the option', () => {
    for (const value of ['jwt-bearer', 'urn:x y', 42, '']) {
      let error: unknown;
      try {
        resolveClientAssertionType(value, 'createAuthClient');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OptionError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'clientAssertionType' });
    }
  });
});

describe('createClientAssertionAuthenticator', () => {
  it('sends a fresh assertion per request as client_assertion, with its exp as notAfter', async () => {
    let n = 0;
    const authenticator = createClientAssertionAuthenticator({
      clientId: 'orders-worker',
      clientAssertion: () => assertion({ n: ++n, exp: nowSeconds + 120 }),
      now: clock.now,
      where: 'createAuthClient',
    });
    const first = await authenticator.authenticate();
    const second = await authenticator.authenticate();
    expect(first).toEqual({
      headers: {},
      body: {
        client_id: 'orders-worker',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion({ n: 1, exp: nowSeconds + 120 }),
      },
      notAfter: nowSeconds + 120,
    });
    expect(second.body.client_assertion).toBe(assertion({ n: 2, exp: nowSeconds + 120 }));
  });

  it('checks clientAssertion and clientAssertionType when it is made', () => {
    const make = (clientAssertion: unknown, clientAssertionType?: unknown) =>
      createClientAssertionAuthenticator({
        clientId: 'orders-worker',
        clientAssertion,
        clientAssertionType,
        now: clock.now,
        where: 'createAuthClient',
      });
    expect(() => make(undefined)).toThrow(expect.objectContaining({ option: 'clientAssertion' }));
    expect(() => make(assertion(), 'bearer')).toThrow(
      expect.objectContaining({ option: 'clientAssertionType' }),
    );
  });
});
