/**
 * Token exchange (RFC 8693): the request's checks and form (§2.1), the answer's checks (§2.2.1),
 * and the cache: keyed by a hash of the subject and actor tokens and the normalised target, one
 * request in flight per slot, never served past the subject token's own exp.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as schemas from '../../../src/generated/schemas.js';
import {
  createTokenExchanger,
  prepareTokenExchange,
  readTokenExchangeResponse,
  refreshAtMs,
  tokenExchangeCacheKey,
  TOKEN_EXCHANGE_GRANT_TYPE,
  type ExchangedToken,
  type ExchangeTokenOptions,
  type TokenExchangeRequest,
  type TokenExchangeResponseBody,
} from '../../../src/runtime/client/token-exchange.js';
import type { TokenExchangeEvent } from '../../../src/runtime/client/auth-client-events.js';
import { TokenTypes } from '../../../src/runtime/client/token-types.js';
import { OAuthError, ProtocolError } from '../../../src/runtime/errors.js';
import {
  createIdpClient,
  exchange,
  parseBody,
  toOAuthError,
  type IdpCall,
} from '../../../src/runtime/transport/idp-client.js';
import { OptionError } from '../../../src/runtime/shared/options.js';
import { validate } from '../../../src/runtime/shared/validate.js';
import { manualClock } from '../fake-fetch.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (claims: Record<string, unknown>) =>
  `${b64({ alg: 'RS256', typ: 'at+jwt' })}.${b64(claims)}.${Buffer.from('sig').toString('base64url')}`;

const clock = manualClock();
const nowSeconds = Math.floor(clock.now().getTime() / 1000);
const subjectToken = jwt({ sub: 'user-42', exp: nowSeconds + 600, n: 'subject-3b9f' });
const actorToken = jwt({ sub: 'orders-api', exp: nowSeconds + 300, n: 'actor-77ac' });

function optionError(run: () => unknown): OptionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    expect(error).toBeInstanceOf(TypeError);
    return error as OptionError;
  }
  throw new Error('expected an OptionError');
}

function protocolError(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

const shown = (error: unknown) => `${String(error)} ${inspect(error, { depth: 5 })}`;

describe('prepareTokenExchange', () => {
  it('builds the RFC 8693 §2.1 form, targets sorted and de-duplicated', () => {
    const request = prepareTokenExchange({
      subjectToken,
      subjectTokenType: TokenTypes.accessToken,
      actorToken,
      actorTokenType: TokenTypes.jwt,
      requestedTokenType: TokenTypes.accessToken,
      audience: ['ledger-api', 'billing-api', 'ledger-api'],
      resource: 'https://ledger.example.test/',
      scope: 'ledger:write ledger:read',
    });
    expect(request.parameters).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      actor_token: actorToken,
      actor_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: ['billing-api', 'ledger-api'],
      resource: ['https://ledger.example.test/'],
      scope: 'ledger:read ledger:write',
    });
    expect(request.secrets).toEqual([subjectToken, actorToken]);
    expect(TOKEN_EXCHANGE_GRANT_TYPE).toBe(request.parameters.grant_type);
  });

  it('leaves out every member that was not asked for', () => {
    const { parameters } = prepareTokenExchange({
      subjectToken: 'opaque-subject',
      subjectTokenType: TokenTypes.accessToken,
    });
    expect(Object.keys(parameters).sort()).toEqual([
      'grant_type',
      'subject_token',
      'subject_token_type',
    ]);
  });

  it('refuses actorTokenType without actorToken (RFC 8693 §2.1)', () => {
    const error = optionError(() =>
      prepareTokenExchange({
        subjectToken,
        subjectTokenType: TokenTypes.accessToken,
        actorTokenType: TokenTypes.accessToken,
      }),
    );
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'actorTokenType' });
    expect(error.message).toContain('without `actorToken`');
  });

  it('requires actorTokenType with actorToken (RFC 8693 §2.1)', () => {
    const error = optionError(() =>
      prepareTokenExchange({ subjectToken, subjectTokenType: TokenTypes.accessToken, actorToken }),
    );
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'actorTokenType' });
    expect(error.message).toContain('is required with `actorToken`');
    expect(shown(error)).not.toContain(actorToken);
  });

  it('refuses a subject token type that is not a URI, without echoing it or the token', () => {
    const error = optionError(() =>
      prepareTokenExchange({ subjectToken, subjectTokenType: 'access_token' }),
    );
    expect(error).toMatchObject({ option: 'subjectTokenType' });
    expect(shown(error)).not.toContain(subjectToken);
  });

  it('refuses a requested token type that is not a URI', () => {
    expect(
      optionError(() =>
        prepareTokenExchange({
          subjectToken,
          subjectTokenType: TokenTypes.accessToken,
          requestedTokenType: 'jwt',
        }),
      ),
    ).toMatchObject({ option: 'requestedTokenType' });
  });

  it('refuses an empty or missing subject token', () => {
    for (const value of ['', undefined, 42]) {
      expect(
        optionError(() =>
          prepareTokenExchange({
            subjectToken: value as string,
            subjectTokenType: TokenTypes.accessToken,
          }),
        ),
      ).toMatchObject({ option: 'subjectToken' });
    }
  });

  it('refuses an audience with white space, and a resource that is not an absolute URI', () => {
    const base = { subjectToken, subjectTokenType: TokenTypes.accessToken };
    expect(
      optionError(() => prepareTokenExchange({ ...base, audience: 'ledger api' })),
    ).toMatchObject({ option: 'audience' });
    expect(() => prepareTokenExchange({ ...base, resource: 'ledger' })).toThrow(TypeError);
  });

  it('refuses an unknown option, naming the closest known one', () => {
    const error = optionError(() =>
      prepareTokenExchange({
        subjectToken,
        subjectTokenType: TokenTypes.accessToken,
        audiences: 'ledger-api',
      } as ExchangeTokenOptions),
    );
    expect(error.code).toBe('ERR_UNKNOWN_OPTION');
    expect(error.message).toContain('audience');
  });

  it('notes the earliest exp of the subject and actor tokens, and none for opaque tokens', () => {
    const base = { subjectToken, subjectTokenType: TokenTypes.accessToken };
    expect(prepareTokenExchange(base).notAfter).toBe(nowSeconds + 600);
    expect(
      prepareTokenExchange({ ...base, actorToken, actorTokenType: TokenTypes.accessToken })
        .notAfter,
    ).toBe(nowSeconds + 300);
    expect(
      prepareTokenExchange({ subjectToken: 'opaque', subjectTokenType: TokenTypes.accessToken })
        .notAfter,
    ).toBeUndefined();
  });
});

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

describe('the token exchange answer schema', () => {
  it('requires issued_token_type (RFC 8693 §2.2.1)', () => {
    const result = validate(schemas.TokenExchangeResponse, {
      access_token: 'a',
      token_type: 'Bearer',
    });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((issue) => issue.path.join('.'))).toEqual([
      'issued_token_type',
    ]);
  });
});

describe('readTokenExchangeResponse', () => {
  const sentAtMs = clock.now().getTime();
  const where = "the authorization server's token endpoint";
  const read = (
    body: Partial<TokenExchangeResponseBody>,
    context: { dpop?: boolean; notAfter?: number } = {},
  ) =>
    readTokenExchangeResponse(
      {
        access_token: 'exchanged-token',
        issued_token_type: TokenTypes.accessToken,
        token_type: 'Bearer',
        ...body,
      },
      { dpop: context.dpop ?? false, sentAtMs, where, notAfter: context.notAfter },
    );

  it('maps an answer, token_type compared without case', () => {
    expect(read({ token_type: 'bearer', expires_in: 300, scope: 'ledger:read' })).toEqual({
      access_token: 'exchanged-token',
      issued_token_type: TokenTypes.accessToken,
      token_type: 'Bearer',
      expires_in: 300,
      expires_at: nowSeconds + 300,
      scope: 'ledger:read',
    });
    expect(read({ token_type: 'dpop' }, { dpop: true }).token_type).toBe('DPoP');
    expect(read({ token_type: 'n_a', issued_token_type: TokenTypes.idToken }).token_type).toBe(
      'N_A',
    );
  });

  it('accepts N_A for a token that is not an access token, with or without DPoP', () => {
    expect(
      read({ token_type: 'N_A', issued_token_type: TokenTypes.jwt }, { dpop: true }),
    ).toMatchObject({
      token_type: 'N_A',
      issued_token_type: TokenTypes.jwt,
    });
  });

  it('refuses a Bearer answer to a request with a DPoP proof (RFC 9449 §5)', () => {
    const error = protocolError(() => read({ token_type: 'Bearer' }, { dpop: true }));
    expect(error.code).toBe('token_type');
    expect(error.cause).toEqual([
      expect.objectContaining({ path: 'token_type', code: 'dpop_required' }),
    ]);
  });

  it('refuses a DPoP answer without a DPoP proof, and an unknown token_type', () => {
    expect(protocolError(() => read({ token_type: 'DPoP' })).code).toBe('token_type');
    const error = protocolError(() => read({ token_type: 'MAC' }));
    expect(error.code).toBe('token_type');
    expect(error.message).toContain('found "MAC"');
  });

  it('refuses an issued_token_type that is not a URI', () => {
    const error = protocolError(() => read({ issued_token_type: 'access_token' }));
    expect(error.code).toBe('schema');
    expect(error.cause).toEqual([expect.objectContaining({ path: 'issued_token_type' })]);
  });

  it('holds the token and lifetime to the client-credentials rules', () => {
    expect(protocolError(() => read({ access_token: 'bad\ntoken' })).code).toBe('invalid_token');
    expect(protocolError(() => read({ expires_in: 0 })).code).toBe('expires_in');
    expect(protocolError(() => read({ scope: 'a"b' })).code).toBe('scope');
  });

  it('never serves the token past the subject token’s exp', () => {
    expect(read({ expires_in: 3600 }, { notAfter: nowSeconds + 120 }).expires_at).toBe(
      nowSeconds + 120,
    );
    expect(read({ expires_in: 60 }, { notAfter: nowSeconds + 120 }).expires_at).toBe(
      nowSeconds + 60,
    );
    expect(read({}, { notAfter: nowSeconds + 120 }).expires_at).toBe(nowSeconds + 120);
  });
});

describe('refreshAtMs', () => {
  it('stops serving a token the skew before it expires, or half way through a shorter life', () => {
    expect(refreshAtMs(0, 100, 30_000)).toBe(70_000);
    expect(refreshAtMs(0, 20, 30_000)).toBe(10_000);
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

describe('a token exchange sent through the transport', () => {
  /** The `send` a client composes: transport, answer schema, answer checks, OAuth errors. */
  async function send(request: TokenExchangeRequest, answer: Response) {
    const call: IdpCall = {
      client: createIdpClient(async () => answer),
      url: 'https://idp.example.test/token',
      endpoint: 'token endpoint',
      timeoutMs: 1000,
      secrets: request.secrets,
    };
    const sentAtMs = clock.now().getTime();
    const result = await exchange(call, (middleware) =>
      call.client.POST('/token', {
        body: request.parameters,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        parseAs: 'text',
        middleware,
      }),
    );
    if (!result.response.ok) throw toOAuthError(result, call);
    const body = parseBody(result, schemas.TokenExchangeResponse, call);
    return readTokenExchangeResponse(body, {
      dpop: false,
      sentAtMs,
      where: "the authorization server's token endpoint",
      notAfter: request.notAfter,
    });
  }
  const request = prepareTokenExchange({
    subjectToken,
    subjectTokenType: TokenTypes.accessToken,
    audience: 'ledger-api',
  });

  it('turns an RFC 8693 §2.2.2 error into an OAuthError with its code, the echoed subject token scrubbed', async () => {
    const error = await send(
      request,
      new Response(
        JSON.stringify({
          error: 'invalid_request',
          error_description: `bad token ${subjectToken}`,
        }),
        { status: 400, headers: { 'content-type': 'application/json' } },
      ),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(shown(error)).not.toContain(subjectToken);
    expect(shown(error)).not.toContain(subjectToken.split('.')[1]);
  });

  it('refuses a 2xx answer without issued_token_type as a ProtocolError schema', async () => {
    const error = await send(
      request,
      new Response(JSON.stringify({ access_token: 'a', token_type: 'Bearer' }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'schema' });
  });

  it('hands out the token of a good answer, capped at the subject token’s exp', async () => {
    const token = await send(
      request,
      new Response(
        JSON.stringify({
          access_token: 'downstream',
          issued_token_type: TokenTypes.accessToken,
          token_type: 'Bearer',
          expires_in: 3600,
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      ),
    );
    expect(token).toMatchObject({ access_token: 'downstream', expires_at: nowSeconds + 600 });
  });
});
