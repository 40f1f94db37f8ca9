import { describe, expect, it } from 'vitest';
import { createM2MClient } from '../../../src/client.js';

function tokenServer() {
  const calls: Request[] = [];
  let issued = 0;
  const fetchImpl = async (request: Request) => {
    calls.push(request);
    issued += 1;
    return Response.json({
      access_token: `token-${issued}`,
      token_type: 'Bearer',
      expires_in: 300,
    });
  };
  return { calls, fetchImpl };
}

describe('createM2MClient', () => {
  it('takes defaultScope and fetchImpl for scope and fetch, and caches like createAuthClient', async () => {
    const idp = tokenServer();
    const client = createM2MClient({
      tokenEndpoint: 'https://idp.example.com/token',
      clientId: 'billing',
      clientSecret: 's3cret',
      defaultScope: ['orders:read', 'orders:write'],
      fetchImpl: idp.fetchImpl,
    });
    expect(await client.getAccessToken()).toBe('token-1');
    expect(await client.getAccessToken()).toBe('token-1');
    expect(idp.calls).toHaveLength(1);
    const body = new URLSearchParams(await idp.calls[0]!.text());
    expect(body.get('scope')).toBe('orders:read orders:write');
  });

  it('skips the cache with getAccessToken({ forceRefresh: true }) and empties it with clearCache()', async () => {
    const idp = tokenServer();
    const client = createM2MClient({
      tokenEndpoint: 'https://idp.example.com/token',
      clientId: 'billing',
      clientSecret: 's3cret',
      fetchImpl: idp.fetchImpl,
    });
    expect(await client.getAccessToken()).toBe('token-1');
    expect(await client.getAccessToken({ forceRefresh: true })).toBe('token-2');
    client.clearCache();
    expect(await client.getAccessToken()).toBe('token-3');
  });

  it('refuses a misspelt alias, suggesting it', () => {
    expect(() =>
      createM2MClient({
        tokenEndpoint: 'https://idp.example.com/token',
        clientId: 'billing',
        clientSecret: 's3cret',
        defaultScopes: 'a',
      } as never),
    ).toThrow(/createM2MClient: .*defaultScopes.*defaultScope/);
  });

  it('refuses an alias given with the option it stands for', () => {
    expect(() =>
      createM2MClient({
        tokenEndpoint: 'https://idp.example.com/token',
        clientId: 'billing',
        clientSecret: 's3cret',
        scope: 'a',
        defaultScope: 'b',
      }),
    ).toThrow(/`defaultScope` is another name for `scope`/);
  });
});
