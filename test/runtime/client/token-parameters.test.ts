/**
 * `tokenParameters`: extension parameters of the token request (RFC 6749 §8.2), by default and
 * per call. They are sent, they are part of the cache key, the client's own parameters cannot
 * be set through them, and their values (which may be secrets) never come back out.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createMemoryStore,
  OAuthError,
  type AuthClientEvent,
  type AuthClientOptions,
  type TokenParameters,
} from '../../../src/client.js';
import { fakeFetch, json, manualClock } from '../fake-fetch.js';

const tokenEndpoint = 'https://idp.example.test/token';
const appPassword = 'app-pa55+word/with=chars';

function tokenAnswer(n: number) {
  return json({ access_token: `token-${n}`, token_type: 'Bearer', expires_in: 300 });
}

function client(fetch: ReturnType<typeof fakeFetch>, extra: Partial<AuthClientOptions> = {}) {
  return createAuthClient({
    tokenEndpoint,
    clientId: 'svc',
    clientSecret: 'client-secret',
    fetch,
    now: manualClock().now,
    retry: false,
    ...extra,
  });
}

describe('tokenParameters: what is sent', () => {
  it('sends the default parameters with every token request, a list as repeated parameters', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    await client(fetch, { tokenParameters: { tenant: 'acme', region: ['us', 'eu'] } }).getToken();
    const form = fetch.seen[0]?.form;
    expect(form?.get('grant_type')).toBe('client_credentials');
    expect(form?.get('tenant')).toBe('acme');
    expect(form?.getAll('region')).toEqual(['eu', 'us']);
  });

  it('lays per-call parameters over the defaults name by name, keeping the others', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const auth = client(fetch, { tokenParameters: { tenant: 'acme', region: 'eu' } });
    await auth.getToken({ tokenParameters: { region: 'us', team: 'billing' } });
    const form = fetch.seen[0]?.form;
    expect(form?.get('tenant')).toBe('acme');
    expect(form?.getAll('region')).toEqual(['us']);
    expect(form?.get('team')).toBe('billing');
  });

  it('sends per-call parameters for auth.fetch, and keeps them out of the request to the API', async () => {
    const fetch = fakeFetch((request, i) =>
      request.url === tokenEndpoint ? tokenAnswer(i) : json({ ok: true }),
    );
    const auth = client(fetch);
    await auth.fetch('https://api.example.test/orders', { tokenParameters: { tenant: 'acme' } });
    expect(fetch.seen[0]?.form.get('tenant')).toBe('acme');
    const api = fetch.seen[1];
    expect(api?.url).toBe('https://api.example.test/orders');
    expect([...(api?.headers.keys() ?? [])]).toEqual(['authorization']);
  });

  it('sends a parameter named __proto__ as a parameter, and sets no prototype', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const tokenParameters = JSON.parse('{"__proto__": "x", "tenant": "acme"}') as Record<
      string,
      string
    >;
    await client(fetch, { tokenParameters }).getToken();
    expect(fetch.seen[0]?.form.get('__proto__')).toBe('x');
    expect(fetch.seen[0]?.form.get('tenant')).toBe('acme');
  });
});

describe('tokenParameters: the cache key', () => {
  it('shares one slot between spellings of one parameter set, whatever the order', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const auth = client(fetch, { tokenParameters: { a: '1', b: ['y', 'x'] } });
    const first = await auth.getAccessToken();
    const spellings: TokenParameters[] = [
      { b: ['x', 'y'], a: '1' },
      { a: ['1'], b: ['y', 'x', 'x'] },
      { b: ['x', 'y'] },
    ];
    for (const tokenParameters of spellings) {
      expect(await auth.getAccessToken({ tokenParameters })).toBe(first);
    }
    expect(fetch.seen).toHaveLength(1);
  });

  it('keeps tokens with other parameter values, or more parameters, apart', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const auth = client(fetch, { tokenParameters: { tenant: 'acme' } });
    const tokens = new Set([
      await auth.getAccessToken(),
      await auth.getAccessToken({ tokenParameters: { tenant: 'globex' } }),
      await auth.getAccessToken({ tokenParameters: { region: 'eu' } }),
      await auth.getAccessToken({ tokenParameters: { tenant: ['acme', 'globex'] } }),
      await auth.getAccessToken({ scope: 'orders:read' }),
    ]);
    expect(tokens.size).toBe(5);
    expect(fetch.seen).toHaveLength(5);
    // The scope-only call keeps the default parameters.
    expect(fetch.seen[4]?.form.get('tenant')).toBe('acme');
  });

  it('does not let parameters forge another slot: a value holding a line break or quotes stays its own', async () => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const auth = client(fetch);
    const one = await auth.getAccessToken({ tokenParameters: { a: 'x"],["b","y' } });
    const two = await auth.getAccessToken({ tokenParameters: { a: 'x', b: 'y' } });
    const three = await auth.getAccessToken({ tokenParameters: { a: ['x', 'b', 'y'] } });
    expect(new Set([one, two, three]).size).toBe(3);
  });

  it('keeps tokens of different parameters apart in a shared store too', async () => {
    const cache = createMemoryStore();
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const acme = client(fetch, { cache, tokenParameters: { tenant: 'acme' } });
    const globex = client(fetch, { cache, tokenParameters: { tenant: 'globex' } });
    const alsoAcme = client(fetch, { cache, tokenParameters: { tenant: 'acme' } });
    const a = await acme.getAccessToken();
    const g = await globex.getAccessToken();
    expect(g).not.toBe(a);
    expect(await alsoAcme.getAccessToken()).toBe(a);
    expect(fetch.seen).toHaveLength(2);
  });
});

describe('tokenParameters: what is refused', () => {
  const owned = [
    'grant_type',
    'client_id',
    'client_secret',
    'client_assertion',
    'client_assertion_type',
    'scope',
    'resource',
  ];

  it.each(owned)(
    'refuses %s, a parameter the client sends itself, when the client is made',
    (name) => {
      const fetch = fakeFetch((_, i) => tokenAnswer(i));
      let error: unknown;
      try {
        client(fetch, { tokenParameters: { [name]: 'value-of-mine' } });
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({
        code: 'ERR_INVALID_OPTION',
        option: `tokenParameters.${name}`,
      });
      expect((error as Error).message).toContain(`cannot set \`${name}\``);
      expect((error as Error).message).not.toContain('value-of-mine');
    },
  );

  it.each(owned)('refuses %s per call, and sends nothing', async (name) => {
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const error = await client(fetch)
      .getToken({ tokenParameters: { [name]: 'value-of-mine' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ option: `tokenParameters.${name}` });
    expect(fetch.seen).toHaveLength(0);
  });

  it.each([
    ['a name with a space', { 'my param': 'x' }],
    ['an empty name', { '': 'x' }],
    ['a name with a colon', { 'a:b': 'x' }],
  ])('refuses %s (RFC 6749 §8.2 names)', (_, tokenParameters) => {
    expect(() =>
      client(
        fakeFetch(() => tokenAnswer(0)),
        { tokenParameters },
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'tokenParameters' }));
  });

  it.each([
    ['a number', 42],
    ['an empty string', ''],
    ['an empty list', []],
    ['a list holding a number', ['secret-ish', 7]],
    ['a list holding an empty string', ['secret-ish', '']],
    ['an object', { nested: 'secret-ish' }],
  ])('refuses a value that is %s, naming the parameter and not the value', (_, value) => {
    let error: unknown;
    try {
      client(
        fakeFetch(() => tokenAnswer(0)),
        {
          tokenParameters: { password: value as string },
        },
      );
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ option: 'tokenParameters.password' });
    expect((error as Error).message).not.toContain('secret-ish');
  });

  it('refuses tokenParameters that are not an object', () => {
    for (const tokenParameters of ['tenant=acme', ['tenant', 'acme'], null]) {
      expect(() =>
        client(
          fakeFetch(() => tokenAnswer(0)),
          {
            tokenParameters: tokenParameters as unknown as Record<string, string>,
          },
        ),
      ).toThrow(expect.objectContaining({ option: 'tokenParameters' }));
    }
  });
});

describe('tokenParameters: values never come back out', () => {
  it('scrubs a value the IdP echoes, in every encoding, from the OAuthError and the event', async () => {
    const events: AuthClientEvent[] = [];
    // `api_key` is no parameter the transport knows to be a credential: only being a token
    // parameter gets it scrubbed.
    const fetch = fakeFetch((request) =>
      json(
        {
          error: 'invalid_grant',
          error_description: `bad key ${request.form.get('api_key')} (form ${encodeURIComponent(appPassword)}, b64 ${btoa(appPassword)})`,
        },
        400,
      ),
    );
    const auth = client(fetch, {
      tokenParameters: { username: 'orders-worker', api_key: appPassword },
      onEvent: (event) => events.push(event),
    });
    const error = await auth.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_grant' });
    expect((error as OAuthError).description).toContain('[redacted]');
    const shown = [
      inspect(error, { depth: 5 }),
      JSON.stringify(events),
      inspect(events, { depth: 5 }),
    ];
    for (const text of shown) {
      expect(text).not.toContain(appPassword);
      expect(text).not.toContain(encodeURIComponent(appPassword));
      expect(text).not.toContain(btoa(appPassword));
    }
  });

  it('names the parameters of a slot in events, never their values', async () => {
    const events: AuthClientEvent[] = [];
    const fetch = fakeFetch((_, i) => tokenAnswer(i));
    const auth = client(fetch, {
      tokenParameters: { username: 'orders-worker', password: appPassword },
      onEvent: (event) => events.push(event),
    });
    await auth.getToken();
    const fetched = events.find((event) => event.type === 'token_fetched');
    expect(fetched?.slot).toEqual({
      scope: '',
      resource: [],
      parameters: ['password', 'username'],
    });
    expect(JSON.stringify(events)).not.toContain(appPassword);
  });

  it('reports a slot without parameters as before: no parameters member', async () => {
    const events: AuthClientEvent[] = [];
    await client(
      fakeFetch((_, i) => tokenAnswer(i)),
      {
        onEvent: (event) => events.push(event),
      },
    ).getToken();
    expect(events[0]?.slot).toEqual({ scope: '', resource: [] });
  });
});
