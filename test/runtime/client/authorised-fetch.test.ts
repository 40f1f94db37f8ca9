import { decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createAuthClient, type FetchLike } from '../../../src/client.js';
import { fakeFetch, json, manualClock } from '../fake-fetch.js';

const tokenEndpoint = 'https://idp.example.test/token';
const api = 'https://api.example.test/orders?page=2';

/** One fake for both the IdP and the API: token requests get numbered tokens, the rest `api`. */
function world(
  api: (request: { headers: Headers; method: string; url: string }, apiCall: number) => Response,
  tokenType = 'Bearer',
) {
  let tokens = 0;
  let apiCalls = 0;
  return fakeFetch((request) =>
    request.url === tokenEndpoint
      ? json({ access_token: `token-${tokens++}`, token_type: tokenType, expires_in: 300 })
      : api(request, apiCalls++),
  );
}

function clientFor(fetch: ReturnType<typeof fakeFetch>, dpop = false) {
  return createAuthClient({
    tokenEndpoint,
    clientId: 'c',
    clientSecret: 's',
    fetch,
    dpop,
    now: manualClock().now,
  });
}

describe('AuthClient.fetch', () => {
  it('calls the configured fetch as a plain function, as platform fetches (workerd) require', async () => {
    const fake = world(() => new Response('ok'));
    // Like workerd's global fetch: "Illegal invocation" unless called without a receiver.
    const strict = function (this: unknown, request: Request): Promise<Response> {
      if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
      return fake(request);
    };
    const auth = createAuthClient({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      fetch: strict,
      now: manualClock().now,
    });
    expect(await (await auth.fetch(api)).text()).toBe('ok');
  });

  it('sends the cached token as Authorization: Bearer and passes the request through', async () => {
    const fetch = world(() => new Response('ok'));
    const auth = clientFor(fetch);
    const response = await auth.fetch(api, {
      method: 'POST',
      body: 'hello',
      headers: { 'x-trace': '1' },
    });
    await auth.fetch(api);
    expect(await response.text()).toBe('ok');
    const calls = fetch.seen.filter((r) => r.url === api);
    expect(calls.map((r) => r.headers.get('authorization'))).toEqual([
      'Bearer token-0',
      'Bearer token-0',
    ]);
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.headers.get('x-trace')).toBe('1');
    expect(fetch.seen.filter((r) => r.url === tokenEndpoint)).toHaveLength(1);
  });

  it('adds a DPoP proof with htm, htu without the query, and ath of the token', async () => {
    const fetch = world(() => new Response('ok'), 'DPoP');
    await clientFor(fetch, true).fetch(api, { method: 'DELETE' });
    const call = fetch.seen.find((r) => r.url === api);
    expect(call?.headers.get('authorization')).toBe('DPoP token-0');
    const { payload } = await jwtVerify(call?.headers.get('dpop') ?? '', EmbeddedJWK, {
      typ: 'dpop+jwt',
    });
    expect(payload).toMatchObject({
      htm: 'DELETE',
      htu: 'https://api.example.test/orders',
      ath: createHash('sha256').update('token-0').digest('base64url'),
    });
  });

  it('retries once with the nonce of a use_dpop_nonce challenge, and uses it afterwards', async () => {
    const fetch = world(
      (_, n) =>
        n === 0
          ? new Response(null, {
              status: 401,
              headers: {
                'WWW-Authenticate': 'DPoP error="use_dpop_nonce", algs="EdDSA ES256"',
                'DPoP-Nonce': 'rs-nonce',
              },
            })
          : new Response('ok'),
      'DPoP',
    );
    const auth = clientFor(fetch, true);
    expect((await auth.fetch(api)).status).toBe(200);
    await auth.fetch(api);
    const proofs = fetch.seen.filter((r) => r.url === api).map((r) => r.headers.get('dpop') ?? '');
    const nonces = await Promise.all(
      proofs.map(async (p) => (await jwtVerify(p, EmbeddedJWK)).payload.nonce),
    );
    expect(nonces).toEqual([undefined, 'rs-nonce', 'rs-nonce']);
  });

  it('refreshes the token once on 401 invalid_token, then gives the caller the answer', async () => {
    const fetch = world(
      () =>
        new Response(null, {
          status: 401,
          headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
        }),
    );
    const response = await clientFor(fetch).fetch(api);
    expect(response.status).toBe(401);
    const calls = fetch.seen
      .filter((r) => r.url === api)
      .map((r) => r.headers.get('authorization'));
    expect(calls).toEqual(['Bearer token-0', 'Bearer token-1']);
  });

  it("reads no error out of another parameter's quoted value, so a realm cannot ask for a refresh", async () => {
    const fetch = world(
      () =>
        new Response(null, {
          status: 401,
          headers: { 'WWW-Authenticate': 'Bearer realm="api, error=invalid_token"' },
        }),
    );
    expect((await clientFor(fetch).fetch(api)).status).toBe(401);
    const calls = fetch.seen
      .filter((r) => r.url === api)
      .map((r) => r.headers.get('authorization'));
    expect(calls).toEqual(['Bearer token-0']);
  });

  it('does not retry a 401 without a challenge it understands, nor a 403', async () => {
    for (const status of [401, 403]) {
      const fetch = world(
        () =>
          new Response(null, {
            status,
            headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' },
          }),
      );
      expect((await clientFor(fetch).fetch(api)).status).toBe(status);
      expect(fetch.seen.filter((r) => r.url === api)).toHaveLength(1);
    }
  });

  it('replays the request body on a retry', async () => {
    const fetch = world((_, n) =>
      n === 0
        ? new Response(null, {
            status: 401,
            headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
          })
        : new Response('ok'),
    );
    await clientFor(fetch).fetch(api, { method: 'PUT', body: JSON.stringify({ qty: 3 }) });
    const bodies = fetch.seen.filter((r) => r.url === api).map((r) => r.form.toString());
    expect(bodies).toHaveLength(2);
    expect(bodies[0]).toBe(bodies[1]);
    expect(bodies[0]).toContain('qty');
  });
});

describe('AuthClient.fetch: errors on the way never carry a credential', () => {
  /** A fetch library that quotes the request it failed on, as some do in their messages. */
  function quotingFetch(): FetchLike {
    return async (input) => {
      const request = input instanceof Request ? input : new Request(input);
      if (request.url === tokenEndpoint) {
        return json({
          access_token: 'secret-token-0123456789',
          token_type: request.headers.has('dpop') ? 'DPoP' : 'Bearer',
          expires_in: 300,
        });
      }
      const authorization = request.headers.get('authorization') ?? '';
      const proof = request.headers.get('dpop') ?? '';
      const socket = Object.assign(
        new Error(`socket hang up while sending ${encodeURIComponent(authorization)}`),
        {
          code: 'ECONNRESET',
        },
      );
      throw Object.assign(
        new TypeError(
          `fetch failed: ${request.method} ${request.url} {"authorization":${JSON.stringify(authorization)},"dpop":"${proof}"}`,
          {
            cause: socket,
          },
        ),
        { code: 'UND_ERR_SOCKET', request: { headers: { authorization, dpop: proof } } },
      );
    };
  }

  it.each([false, true])(
    'scrubs the token and the DPoP proof (dpop: %s) from the message, fields and cause chain',
    async (dpop) => {
      const fetch = quotingFetch();
      const auth = createAuthClient({
        tokenEndpoint,
        clientId: 'c',
        clientSecret: 's',
        fetch,
        dpop,
      });
      const error = await auth.fetch(api).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ name: 'TypeError', code: 'UND_ERR_SOCKET' });
      expect((error as Error).message).toMatch(
        /^fetch failed: GET https:\/\/api\.example\.test\/orders\?page=2 .*\[redacted\]/,
      );
      expect((error as Error).cause).toMatchObject({
        code: 'ECONNRESET',
        message: expect.stringContaining('[redacted]'),
      });
      const shown = [
        inspect(error, { depth: 10, showHidden: true }),
        String(error),
        JSON.stringify(error),
        (error as Error).stack,
      ].join('\n');
      expect(shown).not.toContain('secret-token-0123456789');
      expect(shown).not.toContain(encodeURIComponent('secret-token-0123456789'));
      expect(shown).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    },
  );

  it('passes an error that holds no credential through unchanged', async () => {
    const failure = new DOMException('The operation was aborted.', 'AbortError');
    const fetch = world(() => {
      throw failure;
    });
    const error = await clientFor(fetch)
      .fetch(api)
      .catch((e: unknown) => e);
    expect(error).toBe(failure);
  });
});

describe('AuthClient.fetch: scope and resource per call', () => {
  it('asks for the token of the scope and resource in init, caches it in its own slot, and sends the request without them', async () => {
    let tokens = 0;
    const fetch = fakeFetch((request) =>
      request.url === tokenEndpoint
        ? json({
            access_token: `token-${tokens++}`,
            token_type: 'Bearer',
            expires_in: 300,
            scope: request.form.get('scope') ?? '',
          })
        : new Response('ok'),
    );
    const auth = clientFor(fetch);
    const init = {
      method: 'POST',
      body: 'x=1',
      scope: 'ledger:write ledger:read',
      resource: 'https://ledger.example.test/',
    };
    await auth.fetch(api, init);
    await auth.fetch(api, { ...init, scope: ['ledger:read', 'ledger:write'] });
    await auth.fetch(api);
    const forms = fetch.seen
      .filter((r) => r.url === tokenEndpoint)
      .map((r) => [r.form.get('scope'), r.form.getAll('resource')]);
    expect(forms).toEqual([
      ['ledger:read ledger:write', ['https://ledger.example.test/']],
      [null, []],
    ]);
    const calls = fetch.seen.filter((r) => r.url === api);
    expect(calls.map((r) => r.headers.get('authorization'))).toEqual([
      'Bearer token-0',
      'Bearer token-0',
      'Bearer token-1',
    ]);
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.form.get('x')).toBe('1');
  });

  it('signs per-call tokens with the one DPoP key of the client', async () => {
    const fetch = world(() => new Response('ok'), 'DPoP');
    const auth = clientFor(fetch, true);
    await auth.fetch(api, { scope: 'a' });
    await auth.fetch(api, { resource: 'https://other.example.test/' });
    const keys = await Promise.all(
      fetch.seen.map(async (r) =>
        JSON.stringify(decodeProtectedHeader(r.headers.get('dpop') ?? '').jwk),
      ),
    );
    expect(fetch.seen).toHaveLength(4);
    expect(new Set(keys).size).toBe(1);
  });

  it('throws the TypeError of getToken for a bad per-call scope, before any request', async () => {
    const fetch = world(() => new Response('ok'));
    await expect(clientFor(fetch).fetch(api, { scope: 'a"b' })).rejects.toThrow(TypeError);
    expect(fetch.seen).toHaveLength(0);
  });
});

describe('AuthClient.fetch: one refresh per refused token, not one per call', () => {
  const refuse = () =>
    new Response(null, {
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    });

  it('makes at most 2 token requests for 5 calls to a server that refuses every token', async () => {
    const fetch = world(refuse);
    const auth = clientFor(fetch);
    for (let i = 0; i < 5; i++) expect((await auth.fetch(api)).status).toBe(401);
    expect(fetch.seen.filter((r) => r.url === tokenEndpoint)).toHaveLength(2);
    expect(fetch.seen.filter((r) => r.url === api)).toHaveLength(6);
  });

  it('shares one forced refresh between concurrent calls refused with the same token', async () => {
    const fetch = world((request) =>
      request.headers.get('authorization') === 'Bearer token-0' ? refuse() : new Response('ok'),
    );
    const auth = clientFor(fetch);
    await auth.getToken();
    const responses = await Promise.all(Array.from({ length: 5 }, () => auth.fetch(api)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(fetch.seen.filter((r) => r.url === tokenEndpoint)).toHaveLength(2);
  });

  it('forgets a refusal once the server accepts the token, so a later revocation gets its one refresh', async () => {
    // The server first refuses tokens it does not know yet (its key set lags behind the IdP's).
    const refused = new Set(['Bearer token-0', 'Bearer token-1']);
    const fetch = world((request) =>
      refused.has(request.headers.get('authorization') ?? '') ? refuse() : new Response('ok'),
    );
    const auth = clientFor(fetch);
    expect((await auth.fetch(api)).status).toBe(401);
    refused.delete('Bearer token-1');
    expect((await auth.fetch(api)).status).toBe(200);
    refused.add('Bearer token-1');
    expect((await auth.fetch(api)).status).toBe(200);
    expect(
      fetch.seen.filter((r) => r.url === api).map((r) => r.headers.get('authorization')),
    ).toEqual([
      'Bearer token-0',
      'Bearer token-1',
      'Bearer token-1',
      'Bearer token-1',
      'Bearer token-2',
    ]);
  });
});
