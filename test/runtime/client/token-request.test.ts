/**
 * `resourceAs` and `audienceParameter`: the two other ways a token request can carry its
 * resource indicator, as ordinary options (the Entra and Auth0 profiles set them), and how they
 * combine with scopes, several resources, `tokenParameters` and a profile.
 */
import { describe, expect, it } from 'vitest';
import { createAuthClient, type AuthClientOptions } from '../../../src/client.js';
import { fakeFetch, json, manualClock } from '../fake-fetch.js';

const tokenEndpoint = 'https://idp.example.test/token';

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

const answer = (_: unknown, i: number) =>
  json({ access_token: `token-${i}`, token_type: 'Bearer', expires_in: 300 });

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("resourceAs: 'scope-default' as an option", () => {
  it('sends the one resource as its /.default scope without a profile', async () => {
    const fetch = fakeFetch(answer);
    await client(fetch, { resourceAs: 'scope-default', resource: 'api://orders' }).getToken();
    expect(fetch.seen[0]?.form.get('scope')).toBe('api://orders/.default');
    expect(fetch.seen[0]?.form.has('resource')).toBe(false);
  });

  it('refuses a default scope with a per-call resource, and a per-call scope with the default resource', async () => {
    const fetch = fakeFetch(answer);
    const withScope = client(fetch, { resourceAs: 'scope-default', scope: 'a' });
    await expect(withScope.getToken({ resource: 'api://orders' })).rejects.toMatchObject({
      name: 'TypeError',
      option: 'scope',
    });
    const withResource = client(fetch, { resourceAs: 'scope-default', resource: 'api://orders' });
    await expect(withResource.getToken({ scope: 'a' })).rejects.toMatchObject({ option: 'scope' });
    expect(fetch.seen).toHaveLength(0);
  });

  it('sends scopes as scopes when the token has no resource', async () => {
    const fetch = fakeFetch(answer);
    await client(fetch, { resourceAs: 'scope-default', scope: 'b a' }).getToken();
    expect(fetch.seen[0]?.form.get('scope')).toBe('a b');
  });

  it('refuses a value other than parameter or scope-default', () => {
    const error = thrown(() => client(fakeFetch(answer), { resourceAs: 'scope' as 'parameter' }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'resourceAs' });
  });
});

describe('audienceParameter as an option', () => {
  it('sends the one resource under that name instead of resource', async () => {
    const fetch = fakeFetch(answer);
    await client(fetch, {
      audienceParameter: 'audience',
      resource: 'https://orders.example.com',
      scope: 'read:orders',
    }).getToken();
    const form = fetch.seen[0]?.form;
    expect(form?.get('audience')).toBe('https://orders.example.com');
    expect(form?.has('resource')).toBe(false);
    expect(form?.get('scope')).toBe('read:orders');
  });

  it('lets tokenParameters set that parameter for a token without a resource', async () => {
    const fetch = fakeFetch(answer);
    await client(fetch, {
      audienceParameter: 'audience',
      tokenParameters: { audience: 'https://orders.example.com' },
    }).getToken();
    expect(fetch.seen[0]?.form.getAll('audience')).toEqual(['https://orders.example.com']);
  });

  it.each([
    ['a parameter the client owns', 'scope'],
    ['resource itself', 'resource'],
    ['no parameter name', 'the audience'],
    ['empty', ''],
  ])('refuses %s', (_, audienceParameter) => {
    const error = thrown(() => client(fakeFetch(answer), { audienceParameter }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'audienceParameter' });
  });

  it('refuses to be given with resourceAs: the two answer one question', () => {
    for (const resourceAs of ['parameter', 'scope-default'] as const) {
      const error = thrown(() =>
        client(fakeFetch(answer), { audienceParameter: 'audience', resourceAs }),
      );
      expect(error).toMatchObject({ name: 'TypeError', option: 'audienceParameter' });
    }
  });

  it("wins over the Entra profile's resourceAs when given", async () => {
    const fetch = fakeFetch(answer);
    await client(fetch, {
      profile: 'entra',
      audienceParameter: 'audience',
      resource: 'api://orders',
    }).getToken();
    const form = fetch.seen[0]?.form;
    expect(form?.get('audience')).toBe('api://orders');
    expect(form?.has('scope')).toBe(false);
  });
});
