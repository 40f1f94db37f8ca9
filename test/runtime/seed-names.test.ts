/**
 * The names of the products s2s-auth grew from, kept as aliases so that code written for them
 * runs unchanged: one implementation, two spellings.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AuthClientError, createM2MClient, OAuthError } from '../../src/client.js';
import { introspectToken } from '../../src/server.js';

describe('the seed products’ names', () => {
  it('AuthClientError is OAuthError, and errorCode is code', async () => {
    const client = createM2MClient({
      tokenEndpoint: 'https://idp.example.com/token',
      clientId: 'billing',
      clientSecret: 's3cret',
      fetchImpl: async () => Response.json({ error: 'invalid_client' }, { status: 401 }),
    });
    const error = await client.getAccessToken().catch((caught: unknown) => caught);
    expect(AuthClientError).toBe(OAuthError);
    expect(error).toBeInstanceOf(AuthClientError);
    expect((error as AuthClientError).errorCode).toBe('invalid_client');
    expect((error as AuthClientError).errorCode).toBe((error as OAuthError).code);
    expect(inspect(error)).not.toContain('s3cret');
  });

  it('introspectToken takes fetchImpl for fetch, and refuses both', async () => {
    const fetchImpl = async () => Response.json({ active: true, scope: 'a' });
    const options = {
      introspectionEndpoint: 'https://idp.example.com/introspect',
      clientId: 'c',
      clientSecret: 's',
      token: 't',
    };
    await expect(introspectToken({ ...options, fetchImpl })).resolves.toEqual({
      active: true,
      scope: 'a',
    });
    await expect(introspectToken({ ...options, fetchImpl, fetch: fetchImpl })).rejects.toThrow(
      /`fetchImpl` is another name for `fetch`/,
    );
  });
});
