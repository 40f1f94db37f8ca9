/**
 * `expires_in` as a string: Microsoft Entra's v1.0 token endpoint writes every number as a
 * string. A string of digits is that number; any other string is a ProtocolError.
 */
import { describe, expect, it } from 'vitest';
import { createAuthClient, ProtocolError } from '../../../src/client.js';
import { idpFixtures } from '../../fixtures/idps/index.js';
import { fakeFetch, json, manualClock } from '../fake-fetch.js';

const tokenEndpoint = 'https://login.example.test/oauth2/token';

function client(answer: () => Response, clock = manualClock()) {
  return createAuthClient({
    tokenEndpoint,
    clientId: 'svc',
    clientSecret: 'secret-value',
    fetch: fakeFetch(answer),
    now: clock.now,
    retry: false,
  });
}

const entraV1 = idpFixtures.entra.tokenEndpoint.otherSuccesses?.[0];

describe('a token answer whose expires_in is a string', () => {
  it('reads Entra v1.0\'s expires_in "3599" as 3599 seconds from when the request left', async () => {
    expect(entraV1?.body).toMatchObject({ expires_in: '3599' });
    const clock = manualClock();
    const token = await client(() => json(entraV1?.body, entraV1?.status), clock).getToken();
    expect(token.expires_in).toBe(3599);
    expect(token.expires_at).toBe(Math.floor(clock.now().getTime() / 1000) + 3599);
  });

  it('serves the token so read from the cache until the skew before its expiry', async () => {
    const clock = manualClock();
    let requests = 0;
    const auth = client(() => {
      requests++;
      return json({ access_token: `t${requests}`, token_type: 'Bearer', expires_in: '120' });
    }, clock);
    await auth.getToken();
    clock.advance(89);
    expect((await auth.getToken()).access_token).toBe('t1');
    clock.advance(1);
    expect((await auth.getToken()).access_token).toBe('t2');
  });

  it.each([
    ['a decimal', '3599.5'],
    ['with a leading space', ' 3599'],
    ['with a trailing line break', '3599\n'],
    ['negative', '-1'],
    ['in exponent notation', '1e3'],
    ['hexadecimal', '0x10'],
    ['empty', ''],
    ['in other digits (Arabic-Indic)', '٣٥٩٩'],
    ['eleven digits long', '12345678901'],
    ['a word', 'soon'],
  ])(
    'refuses one that is %s with a ProtocolError naming expires_in, not the value',
    async (_, value) => {
      const error = await client(() =>
        json({ access_token: 'opaque-1', token_type: 'Bearer', expires_in: value }),
      )
        .getToken()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('schema');
      expect((error as ProtocolError).cause).toEqual([
        expect.objectContaining({ path: 'expires_in' }),
      ]);
      if (value.trim().length > 1) expect((error as Error).message).not.toContain(value.trim());
    },
  );

  it.each([
    ['zero', '0'],
    ['more than ten years', '9999999999'],
  ])('holds a digit string that is %s to the same range as a number', async (_, value) => {
    const error = await client(() =>
      json({ access_token: 'opaque-1', token_type: 'Bearer', expires_in: value }),
    )
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'expires_in' });
    expect((error as ProtocolError).cause).toEqual([
      expect.objectContaining({ path: 'expires_in', code: 'out_of_range' }),
    ]);
  });
});
