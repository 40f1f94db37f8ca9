import { EmbeddedJWK, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAuthClient } from '../../../src/client.js';
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
