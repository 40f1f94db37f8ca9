import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createAuthClient, NetworkError, OAuthError, ProtocolError } from '../../../src/client.js';
import { fakeFetch, json, manualClock } from '../fake-fetch.js';

const tokenEndpoint = 'https://idp.example.test/token';
const secret = 'p@ss w:rd+%é';

function tokenAnswer(n: number, expiresIn: number | undefined = 300) {
  return json({
    access_token: `token-${n}`,
    token_type: 'Bearer',
    ...(expiresIn === undefined ? {} : { expires_in: expiresIn }),
  });
}

function client(fetch: ReturnType<typeof fakeFetch>, clock = manualClock(), extra = {}) {
  return createAuthClient({
    tokenEndpoint,
    clientId: 'svc',
    clientSecret: secret,
    fetch,
    now: clock.now,
    ...extra,
  });
}

describe('createAuthClient: the token request', () => {
  it('sends a client_credentials form with Basic credentials form-encoded before Base64 (RFC 6749 §2.3.1)', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    await client(fetch, manualClock(), {
      scope: 'b a',
      resource: ['https://y.example/', 'https://x.example/'],
    }).getToken();
    const [request] = fetch.seen;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe(tokenEndpoint);
    expect(request?.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(request?.form.get('grant_type')).toBe('client_credentials');
    expect(request?.form.get('scope')).toBe('a b');
    expect(request?.form.getAll('resource')).toEqual(['https://x.example/', 'https://y.example/']);
    expect(request?.form.has('client_secret')).toBe(false);
    const basic = request?.headers.get('authorization') ?? '';
    expect(basic.startsWith('Basic ')).toBe(true);
    expect(atob(basic.slice(6))).toBe('svc:p%40ss+w%3Ard%2B%25%C3%A9');
  });

  it('puts the credentials in the body for client_secret_post', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    await client(fetch, manualClock(), { clientAuth: 'client_secret_post' }).getToken();
    expect(fetch.seen[0]?.headers.has('authorization')).toBe(false);
    expect(fetch.seen[0]?.form.get('client_id')).toBe('svc');
    expect(fetch.seen[0]?.form.get('client_secret')).toBe(secret);
  });

  it('leaves scope and resource out when there are none', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    await client(fetch).getToken();
    expect(fetch.seen[0]?.form.has('scope')).toBe(false);
    expect(fetch.seen[0]?.form.has('resource')).toBe(false);
  });

  it('uses per-call scope and resource instead of the defaults', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const auth = client(fetch, manualClock(), { scope: 'a', resource: 'https://x.example/' });
    await auth.getToken({ scope: ['c'] });
    await auth.getToken({ resource: 'https://z.example/' });
    expect(fetch.seen[0]?.form.get('scope')).toBe('c');
    expect(fetch.seen[0]?.form.getAll('resource')).toEqual(['https://x.example/']);
    expect(fetch.seen[1]?.form.get('scope')).toBe('a');
    expect(fetch.seen[1]?.form.getAll('resource')).toEqual(['https://z.example/']);
  });
});

describe('createAuthClient: caching', () => {
  it('returns the cached token until refreshSkewSeconds before expiry, then fetches', async () => {
    const clock = manualClock();
    const fetch = fakeFetch((_, i) => tokenAnswer(i, 300));
    const auth = client(fetch, clock, { refreshSkewSeconds: 30 });
    const first = await auth.getToken();
    expect(first.expires_at).toBe(Math.floor(clock.now().getTime() / 1000) + 300);
    clock.advance(269);
    expect((await auth.getToken()).access_token).toBe('token-0');
    clock.advance(1);
    expect((await auth.getToken()).access_token).toBe('token-1');
    expect(fetch.seen).toHaveLength(2);
  });

  it('serves a token that lives shorter than the skew for half its life', async () => {
    const clock = manualClock();
    const fetch = fakeFetch((_, i) => tokenAnswer(i, 20));
    const auth = client(fetch, clock, { refreshSkewSeconds: 30 });
    await auth.getToken();
    clock.advance(9);
    expect((await auth.getToken()).access_token).toBe('token-0');
    clock.advance(1);
    expect((await auth.getToken()).access_token).toBe('token-1');
  });

  it('reads the expiry from a JWT access token when expires_in is missing', async () => {
    const clock = manualClock();
    const exp = Math.floor(clock.now().getTime() / 1000) + 120;
    const payload = btoa(JSON.stringify({ exp })).replace(/=+$/, '');
    const fetch = fakeFetch(() =>
      json({ access_token: `e30.${payload}.c2ln`, token_type: 'Bearer' }),
    );
    const auth = client(fetch, clock);
    const token = await auth.getToken();
    expect(token.expires_at).toBe(exp);
    expect(token.expires_in).toBeUndefined();
    clock.advance(91);
    await auth.getToken();
    expect(fetch.seen).toHaveLength(2);
  });

  it('shares one slot between "a b" and ["b", "a"], and keeps other scope sets apart', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const auth = client(fetch);
    const one = await auth.getToken({ scope: 'a b' });
    const two = await auth.getToken({ scope: ['b', 'a'] });
    const three = await auth.getToken({ scope: 'a' });
    expect(two.access_token).toBe(one.access_token);
    expect(three.access_token).not.toBe(one.access_token);
    expect(fetch.seen).toHaveLength(2);
  });

  it('makes one request for many concurrent callers (single flight)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fetch = fakeFetch(async (_, i) => {
      await gate;
      return tokenAnswer(i);
    });
    const auth = client(fetch);
    const all = Promise.all(Array.from({ length: 50 }, () => auth.getAccessToken()));
    release();
    const tokens = await all;
    expect(new Set(tokens)).toEqual(new Set(['token-0']));
    expect(fetch.seen).toHaveLength(1);
  });

  it('does not cache a failure: the next call asks again', async () => {
    const fetch = fakeFetch((_, i) =>
      i === 0 ? json({ error: 'temporarily_unavailable' }, 503) : tokenAnswer(i),
    );
    const auth = client(fetch, manualClock(), { retry: false });
    await expect(auth.getToken()).rejects.toMatchObject({
      name: 'OAuthError',
      code: 'temporarily_unavailable',
      status: 503,
    });
    expect((await auth.getToken()).access_token).toBe('token-1');
  });

  it('forceRefresh fetches a new token and replaces the slot', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const auth = client(fetch);
    await auth.getToken();
    expect((await auth.getToken({ forceRefresh: true })).access_token).toBe('token-1');
    expect((await auth.getToken()).access_token).toBe('token-1');
    expect(fetch.seen).toHaveLength(2);
  });

  it('clearCache drops every token', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const auth = client(fetch);
    await auth.getToken({ scope: 'a' });
    await auth.getToken({ scope: 'b' });
    auth.clearCache();
    await auth.getToken({ scope: 'a' });
    await auth.getToken({ scope: 'b' });
    expect(fetch.seen).toHaveLength(4);
  });
});

describe('createAuthClient: answers that break the spec', () => {
  it('normalises token_type case (RFC 6749 §7.1 is case-insensitive)', async () => {
    const fetch = fakeFetch(() =>
      json({ access_token: 't', token_type: 'bearer', expires_in: 60 }),
    );
    expect((await client(fetch).getToken()).token_type).toBe('Bearer');
  });

  it.each([
    ['a body that is not JSON', () => new Response('<html>oops</html>', { status: 200 })],
    ['no access_token', () => json({ token_type: 'Bearer' })],
    [
      'expires_in as a string that is not only digits',
      () => json({ access_token: 't', token_type: 'Bearer', expires_in: '3600s' }),
    ],
    ['an unknown token_type', () => json({ access_token: 't', token_type: 'mac' })],
    [
      'a DPoP token to a client without DPoP',
      () => json({ access_token: 't', token_type: 'DPoP' }),
    ],
  ])('turns %s into a ProtocolError', async (_, answer) => {
    const error = await client(fakeFetch(answer))
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
  });

  it('maps a 5xx without an OAuth body to OAuthError server_error', async () => {
    const fetch = fakeFetch(() => new Response('Bad gateway', { status: 502 }));
    const error = await client(fetch)
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 502, code: 'server_error' });
  });

  it('maps a fetch that throws to NetworkError with the cause kept', async () => {
    const cause = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const fetch = fakeFetch(() => {
      throw cause;
    });
    const error = await client(fetch)
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).cause).toBe(cause);
    expect((error as Error).message).toMatch(/connection refused/);
  });

  it('keeps the secret out of an error whose description echoes it', async () => {
    const fetch = fakeFetch(() =>
      json({ error: 'invalid_client', error_description: `bad secret ${secret}` }, 401),
    );
    const error = await client(fetch)
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expect(inspect(error, { depth: 10 })).not.toContain(secret);
    expect(String(error)).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
  });
});

describe('createAuthClient: the token type (RFC 6749 §7.1, RFC 9449 §5)', () => {
  it.each(['Bearer', 'bearer', 'BEARER'])(
    'takes token_type %s from a client without DPoP and hands out "Bearer"',
    async (type) => {
      const fetch = fakeFetch(() =>
        json({ access_token: 'opaque-1', token_type: type, expires_in: 60 }),
      );
      expect((await client(fetch).getToken()).token_type).toBe('Bearer');
    },
  );

  it.each(['DPoP', 'dpop', 'DPOP'])(
    'takes token_type %s from a DPoP client and hands out "DPoP"',
    async (type) => {
      const fetch = fakeFetch(() =>
        json({ access_token: 'opaque-1', token_type: type, expires_in: 60 }),
      );
      expect((await client(fetch, manualClock(), { dpop: true }).getToken()).token_type).toBe(
        'DPoP',
      );
    },
  );

  it.each(['Bearer', 'bearer'])(
    'refuses a %s token answered to a request with a DPoP proof (a downgrade), and caches nothing',
    async (type) => {
      const fetch = fakeFetch(() =>
        json({ access_token: 'downgraded-token', token_type: type, expires_in: 60 }),
      );
      const auth = client(fetch, manualClock(), { dpop: true, retry: false });
      const error = await auth.getToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('token_type');
      expect((error as ProtocolError).cause).toEqual([
        {
          path: 'token_type',
          code: 'dpop_required',
          message: expect.stringContaining('expected "DPoP"'),
        },
      ]);
      expect((error as Error).message).toContain(`found "${type}"`);
      await expect(auth.getToken()).rejects.toBeInstanceOf(ProtocolError);
      expect(fetch.seen).toHaveLength(2);
    },
  );

  it.each(['DPoP', 'mac', 'N_A', 'Bearer2'])(
    'refuses token_type %s from a client without DPoP',
    async (type) => {
      const fetch = fakeFetch(() =>
        json({ access_token: 'opaque-1', token_type: type, expires_in: 60 }),
      );
      const error = await client(fetch, manualClock(), { retry: false })
        .getToken()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('token_type');
      expect((error as ProtocolError).cause).toEqual([
        {
          path: 'token_type',
          code: 'unsupported_token_type',
          message: expect.stringContaining('expected "Bearer"'),
        },
      ]);
    },
  );

  it('describes a token_type with control characters instead of echoing it', async () => {
    const fetch = fakeFetch(() =>
      json({ access_token: 'opaque-1', token_type: 'Bearer\r\nX-Forged: 1' }),
    );
    const error = await client(fetch, manualClock(), { retry: false })
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toContain('a value that is not a token type');
    expect((error as Error).message).not.toMatch(/[\r\n]/);
  });
});

describe('createAuthClient: the token itself (RFC 6749 §5.1, Appendix A)', () => {
  const hostile: [string, string][] = [
    ['a CR LF pair', 'eyJ0b2tlbiI6MX0\r\nX-Injected: yes'],
    ['a lone LF', 'abc.def\nghi'],
    ['a NUL', 'abc\u0000def-ghijk'],
    ['a TAB', 'abc\tdef-ghijk'],
    ['a DEL', 'abc\u007fdef-ghijk'],
    ['a terminal escape', '\u001b]0;owned\u0007\u001b[2Jtoken'],
    ['non-ASCII letters', 'tökén-ünïcode-value'],
    ['an emoji', 'token-\u{1F600}-value'],
    ['a C1 control', 'token-\u009b31m-value'],
  ];

  it.each(hostile)(
    'refuses an access_token with %s, never echoes it, and caches nothing',
    async (_, accessToken) => {
      const fetch = fakeFetch(() =>
        json({ access_token: accessToken, token_type: 'Bearer', expires_in: 300 }),
      );
      const auth = client(fetch, manualClock(), { retry: false });
      const error = await auth.getToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('invalid_token');
      expect((error as ProtocolError).cause).toEqual([
        {
          path: 'access_token',
          code: 'invalid_characters',
          message: expect.stringMatching(/found U\+[0-9A-F]{4}/),
        },
      ]);
      expect(inspect(error, { depth: 10 })).not.toContain(accessToken);
      expect(inspect(error, { depth: 10 })).not.toMatch(
        /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/,
      );
      await expect(auth.getToken()).rejects.toBeInstanceOf(ProtocolError);
      expect(fetch.seen).toHaveLength(2);
    },
  );

  it('takes every printable ASCII character, space included (1*VSCHAR)', async () => {
    const printable = Array.from({ length: 0x7f - 0x21 }, (_, i) =>
      String.fromCharCode(0x21 + i),
    ).join('');
    const fetch = fakeFetch(() =>
      json({ access_token: `${printable} x`, token_type: 'Bearer', expires_in: 60 }),
    );
    expect((await client(fetch).getToken()).access_token).toBe(`${printable} x`);
  });

  it.each([
    ['zero', 0],
    ['negative', -30],
    ['more than ten years', 10 * 365 * 86400 + 1],
    ['astronomically large', 1e300],
    ['infinite (1e400 in JSON)', '1e400'],
  ])('refuses an expires_in that is %s', async (_, expiresIn) => {
    const body = `{"access_token":"opaque-1","token_type":"Bearer","expires_in":${String(expiresIn)}}`;
    const fetch = fakeFetch(
      () => new Response(body, { headers: { 'content-type': 'application/json' } }),
    );
    const error = await client(fetch, manualClock(), { retry: false })
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    // The spec's schema catches some values first (negative, non-finite); the token rules the rest.
    expect(['schema', 'expires_in']).toContain((error as ProtocolError).code);
    expect((error as ProtocolError).cause).toEqual([
      expect.objectContaining({ path: 'expires_in' }),
    ]);
  });

  it('takes an expires_in of ten years and a fractional one', async () => {
    const long = fakeFetch(() =>
      json({ access_token: 'opaque-1', token_type: 'Bearer', expires_in: 10 * 365 * 86400 }),
    );
    expect((await client(long).getToken()).expires_in).toBe(10 * 365 * 86400);
    const fraction = fakeFetch(() =>
      json({ access_token: 'opaque-1', token_type: 'Bearer', expires_in: 59.5 }),
    );
    expect((await client(fraction).getToken()).expires_in).toBe(59.5);
  });

  it.each([
    ['a line break', 'orders:read\norders:write'],
    ['a terminal escape', 'orders:read \u001b[31m'],
    ['a double quote', 'orders:"read"'],
    ['a backslash', 'orders\\read'],
    ['non-ASCII letters', 'bestellungen:lesen:ä'],
  ])('refuses a scope with %s', async (_, scope) => {
    const fetch = fakeFetch(() =>
      json({ access_token: 'opaque-1', token_type: 'Bearer', expires_in: 60, scope }),
    );
    const error = await client(fetch, manualClock(), { retry: false })
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('scope');
    expect((error as ProtocolError).cause).toEqual([
      {
        path: 'scope',
        code: 'invalid_characters',
        message: expect.stringMatching(/found U\+[0-9A-F]{4}/),
      },
    ]);
  });

  it('takes a scope as the server spaced it', async () => {
    const fetch = fakeFetch(() =>
      json({ access_token: 'opaque-1', token_type: 'Bearer', expires_in: 60, scope: 'a  b ' }),
    );
    expect((await client(fetch).getToken()).scope).toBe('a  b ');
  });
});

describe('createAuthClient: options', () => {
  const fetch = fakeFetch(() => tokenAnswer(0));
  it.each([
    ['no clientId', { tokenEndpoint, clientSecret: 's' }],
    ['neither issuer nor tokenEndpoint', { clientId: 'c', clientSecret: 's' }],
    ['no secret for client_secret_basic', { tokenEndpoint, clientId: 'c' }],
    ['no key for private_key_jwt', { tokenEndpoint, clientId: 'c', clientAuth: 'private_key_jwt' }],
    [
      'an unknown clientAuth',
      { tokenEndpoint, clientId: 'c', clientSecret: 's', clientAuth: 'client_secret_jwt' },
    ],
    ['a relative issuer', { issuer: '/idp', clientId: 'c', clientSecret: 's' }],
    [
      'a negative skew',
      { tokenEndpoint, clientId: 'c', clientSecret: 's', refreshSkewSeconds: -1 },
    ],
    ['a zero timeout', { tokenEndpoint, clientId: 'c', clientSecret: 's', timeoutMs: 0 }],
    ['a bad scope', { tokenEndpoint, clientId: 'c', clientSecret: 's', scope: 'a"b' }],
    [
      'a resource with a fragment',
      { tokenEndpoint, clientId: 'c', clientSecret: 's', resource: 'https://x/#f' },
    ],
    [
      'a dpop value that is no key pair',
      { tokenEndpoint, clientId: 'c', clientSecret: 's', dpop: 'yes' },
    ],
  ])('throws TypeError for %s', (_, options) => {
    expect(() => createAuthClient({ fetch, ...(options as { clientId: string }) })).toThrow(
      TypeError,
    );
  });

  const assertion = `${btoa('{"alg":"RS256"}')}.${btoa('{"sub":"workload"}')}.c2ln`.replaceAll(
    '=',
    '',
  );
  it.each([
    ['client_assertion', { clientAssertion: assertion }, 'clientSecret', { clientSecret: secret }],
    [
      'client_assertion',
      { clientAssertion: assertion },
      'privateKey',
      { privateKey: { kty: 'OKP' } },
    ],
    ['tls_client_auth', { fetch }, 'clientSecret', { clientSecret: secret }],
    ['self_signed_tls_client_auth', { fetch }, 'privateKey', { privateKey: { kty: 'OKP' } }],
  ] as const)('refuses a credential %s would not send: %s', (clientAuth, needs, option, extra) => {
    const make = () =>
      createAuthClient({ tokenEndpoint, clientId: 'c', fetch, clientAuth, ...needs, ...extra });
    expect(make).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_OPTION', option }),
    );
    expect(make).toThrow(`\`${option}\` is not used by ${clientAuth}`);
    // Without it the same client is made: the refusal is about the stray credential alone.
    expect(() =>
      createAuthClient({ tokenEndpoint, clientId: 'c', fetch, clientAuth, ...needs }),
    ).not.toThrow();
  });

  it('never shows the secret in inspect(client)', () => {
    const auth = createAuthClient({ tokenEndpoint, clientId: 'c', clientSecret: secret, fetch });
    expect(inspect(auth, { depth: 10, showHidden: true })).not.toContain(secret);
  });
});
