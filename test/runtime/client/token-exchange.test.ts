/**
 * The token exchanger (RFC 8693): a cache keyed by a hash of the subject and actor tokens and the
 * normalised target, one request in flight per slot, never served past the subject token's own
 * exp.
 */
import { describe, expect, it } from 'vitest';
import type { TokenExchangeEvent } from '../../../src/runtime/client/auth-client-events.js';
import { refreshAt } from '../../../src/runtime/client/refresh-policy.js';
import {
  createTokenExchanger,
  tokenExchangeCacheKey,
} from '../../../src/runtime/client/token-exchange.js';
import {
  prepareTokenExchange,
  type ExchangeTokenOptions,
  type TokenExchangeRequest,
} from '../../../src/runtime/client/token-exchange-request.js';
import type { ExchangedToken } from '../../../src/runtime/client/token-exchange-response.js';
import { TokenTypes } from '../../../src/runtime/client/token-types.js';
import { OAuthError } from '../../../src/runtime/errors.js';
import { OptionError } from '../../../src/runtime/shared/options.js';
import { manualClock } from '../fake-fetch.js';
import { actorToken, jwt, subjectToken } from '../../support/token-exchange-fixtures.js';

describe('tokenExchangeCacheKey', () => {
  const key = (options: Partial<ExchangeTokenOptions>) =>
    tokenExchangeCacheKey(
      prepareTokenExchange({ subjectToken, subjectTokenType: TokenTypes.accessToken, ...options }),
    );

  it('is one slot for the same target however it is spelt', async () => {
    expect(await key({ scope: 'a b', audience: ['y', 'x'] })).toBe(
      await key({ scope: ['b', 'a', 'a'], audience: ['x', 'y'] }),
    );
  });

  it('is another slot for another subject, actor, type or target', async () => {
    const keys = await Promise.all([
      key({}),
      key({ subjectToken: jwt({ sub: 'user-43' }) }),
      key({ subjectTokenType: TokenTypes.jwt }),
      key({ actorToken, actorTokenType: TokenTypes.accessToken }),
      key({ requestedTokenType: TokenTypes.idToken }),
      key({ audience: 'x' }),
      key({ resource: 'https://x.example.test/' }),
      key({ scope: 'a' }),
    ]);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('holds no part of the tokens', async () => {
    const value = await key({ actorToken, actorTokenType: TokenTypes.accessToken });
    expect(value).toMatch(/^exchange:[\w-]{43}$/);
    for (const part of [...subjectToken.split('.'), ...actorToken.split('.')]) {
      expect(value).not.toContain(part);
    }
  });
});

describe('refreshAt, the time the exchanger stops serving a token', () => {
  it('stops serving a token the skew before it expires, or half way through a shorter life', () => {
    expect(refreshAt(0, 100, 30_000)).toBe(70_000);
    expect(refreshAt(0, 20, 30_000)).toBe(10_000);
  });
});

describe('createTokenExchanger', () => {
  function setup(answer: (request: TokenExchangeRequest, n: number) => Partial<ExchangedToken>) {
    const local = manualClock();
    const sent: TokenExchangeRequest[] = [];
    const exchanger = createTokenExchanger({
      now: local.now,
      refreshSkewSeconds: 30,
      async send(request) {
        sent.push(request);
        const base: ExchangedToken = {
          access_token: `exchanged-${sent.length}`,
          issued_token_type: TokenTypes.accessToken,
          token_type: 'Bearer',
          expires_at: Math.floor(local.now().getTime() / 1000) + 300,
        };
        return { ...base, ...answer(request, sent.length) };
      },
    });
    return { exchanger, sent, clock: local };
  }
  const ask = { subjectToken: 'opaque-subject', subjectTokenType: TokenTypes.accessToken };

  it('serves the cached token for the same subject and target', async () => {
    const { exchanger, sent } = setup(() => ({}));
    const first = await exchanger.exchange({ ...ask, scope: 'a b' });
    const second = await exchanger.exchange({ ...ask, scope: ['b', 'a'] });
    expect(second).toBe(first);
    expect(sent).toHaveLength(1);
  });

  it('asks again for another subject', async () => {
    const { exchanger, sent } = setup(() => ({}));
    await exchanger.exchange(ask);
    await exchanger.exchange({ ...ask, subjectToken: 'another-subject' });
    expect(sent).toHaveLength(2);
  });

  it('sends one request for concurrent callers of one slot', async () => {
    const { exchanger, sent } = setup(() => ({}));
    const tokens = await Promise.all([1, 2, 3].map(() => exchanger.exchange(ask)));
    expect(sent).toHaveLength(1);
    expect(new Set(tokens.map((t) => t.access_token)).size).toBe(1);
  });

  it('does not cache a failure', async () => {
    let fail = true;
    const { exchanger, sent } = setup(() => {
      if (fail) throw new Error('invalid_request');
      return {};
    });
    await expect(exchanger.exchange(ask)).rejects.toThrow('invalid_request');
    fail = false;
    await expect(exchanger.exchange(ask)).resolves.toMatchObject({ access_token: 'exchanged-2' });
    expect(sent).toHaveLength(2);
  });

  it('replaces the slot on forceRefresh', async () => {
    const { exchanger, sent } = setup(() => ({}));
    await exchanger.exchange(ask);
    const forced = await exchanger.exchange({ ...ask, forceRefresh: true });
    expect(forced.access_token).toBe('exchanged-2');
    expect((await exchanger.exchange(ask)).access_token).toBe('exchanged-2');
    expect(sent).toHaveLength(2);
  });

  it('asks again refreshSkewSeconds before the token expires', async () => {
    const { exchanger, sent, clock: local } = setup(() => ({}));
    await exchanger.exchange(ask);
    local.advance(269);
    await exchanger.exchange(ask);
    expect(sent).toHaveLength(1);
    local.advance(1);
    await exchanger.exchange(ask);
    expect(sent).toHaveLength(2);
  });

  it('does not cache a token whose expiry is unknown', async () => {
    const { exchanger, sent } = setup(() => ({ expires_at: undefined }));
    await exchanger.exchange(ask);
    await exchanger.exchange(ask);
    expect(sent).toHaveLength(2);
  });

  it('forgets every token on clear', async () => {
    const { exchanger, sent } = setup(() => ({}));
    await exchanger.exchange(ask);
    exchanger.clear();
    await exchanger.exchange(ask);
    expect(sent).toHaveLength(2);
  });

  it('reports misses, exchanged tokens, hits and failures by target, never a token', async () => {
    const local = manualClock();
    const events: TokenExchangeEvent[] = [];
    let fail = false;
    const exchanger = createTokenExchanger({
      now: local.now,
      refreshSkewSeconds: 30,
      emit: (event) => events.push(event),
      send: () =>
        fail
          ? Promise.reject(new OAuthError({ status: 400, code: 'invalid_target' }))
          : Promise.resolve({
              access_token: 'exchanged-token',
              issued_token_type: TokenTypes.accessToken,
              token_type: 'Bearer',
              expires_at: Math.floor(local.now().getTime() / 1000) + 300,
            }),
    });
    const target = { ...ask, audience: ['b-api', 'a-api'], scope: 'read', forceRefresh: false };
    await exchanger.exchange(target);
    await exchanger.exchange(target);
    fail = true;
    await exchanger.exchange({ ...target, forceRefresh: true }).catch(() => undefined);
    const slot = { audience: ['a-api', 'b-api'], resource: [], scope: 'read' };
    expect(events).toEqual([
      { type: 'exchange_cache_miss', slot },
      {
        type: 'token_exchanged',
        slot,
        tokenType: 'Bearer',
        issuedTokenType: TokenTypes.accessToken,
        expiresAt: expect.any(Number) as number,
        durationMs: 0,
        forced: false,
      },
      { type: 'exchange_cache_hit', slot },
      { type: 'token_exchange_failed', slot, error: expect.any(OAuthError) as OAuthError },
    ]);
    expect(JSON.stringify(events)).not.toMatch(/opaque-subject|exchanged-token/);
  });

  it('checks the options before anything is sent', async () => {
    const { exchanger, sent } = setup(() => ({}));
    await expect(
      exchanger.exchange({ ...ask, actorTokenType: TokenTypes.accessToken }),
    ).rejects.toBeInstanceOf(OptionError);
    expect(sent).toHaveLength(0);
  });
});
