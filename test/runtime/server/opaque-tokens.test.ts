/**
 * Opaque access tokens verified by introspection (RFC 7662), against a fake authorization
 * server behind an injected `fetch` and a hand-moved clock: the checks of the answer, the cache
 * of active answers, the failures that answer 503, and DPoP-bound opaque tokens.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  createResourceServer,
  NetworkError,
  OAuthError,
  ProtocolError,
  TokenError,
  type ResourceServerEvent,
  type ResourceServerOptions,
} from '../../../src/server.js';
import { OptionError } from '../../../src/runtime/shared/options.js';
import type { FetchLike } from '../../../src/runtime/shared/options.js';
import { manualClock, type ManualClock } from '../../support/clock.js';
import {
  accessToken,
  AUDIENCE,
  dpopProof,
  ISSUER,
  makeDpopKey,
  makeKey,
  request,
  RESOURCE_URL,
  START,
  type TestKey,
} from './helpers.js';

const CLIENT_ID = 'orders-api';
const CLIENT_SECRET = 'rs-secret:introspect+me %2F-9f8e7d';
const INTROSPECTION_URL = `${ISSUER}/token/introspection`;
/** An opaque token as oidc-provider and ZITADEL issue them: no dots. */
const OPAQUE = 'Qm9vbV9vcGFxdWVfdG9rZW5fdmFsdWVfMTIzNDU2Nzg5MA';

type Answer = Record<string, unknown> | ((token: string) => Response | Promise<Response>);

/** One request the fake authorization server received at its introspection endpoint. */
interface Asked {
  token: string | null;
  hint: string | null;
  authorization: string | null;
  form: URLSearchParams;
}

interface FakeAs {
  fetch: FetchLike;
  /** Introspection requests, in order. */
  asked: Asked[];
  /** Sets the answer for one token (default: `{ active: false }`). */
  answer(token: string, answer: Answer): void;
  /** `'down'`: every request fails to connect. */
  failWith(failure: 'down' | undefined): void;
  /** Holds introspection answers until `release()`. */
  hold(): { release(): void };
  key: TestKey;
  /** Members of the discovery document to leave out. */
  discoveryWithout: Set<string>;
}

async function fakeAs(): Promise<FakeAs> {
  const key = await makeKey('ES256');
  const answers = new Map<string, Answer>();
  const asked: Asked[] = [];
  const discoveryWithout = new Set<string>();
  let failure: 'down' | undefined;
  let gate: Promise<void> | undefined;
  const fetch: FetchLike = async (input) => {
    if (failure === 'down') {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      });
    }
    const { pathname } = new URL(input.url);
    if (pathname === '/.well-known/oauth-authorization-server') {
      const document: Record<string, unknown> = {
        issuer: ISSUER,
        jwks_uri: `${ISSUER}/jwks`,
        token_endpoint: `${ISSUER}/token`,
        introspection_endpoint: INTROSPECTION_URL,
      };
      for (const name of discoveryWithout) delete document[name];
      return Response.json(document);
    }
    if (pathname === '/jwks') return Response.json({ keys: [key.jwk] });
    if (pathname === '/token/introspection' && input.method === 'POST') {
      const form = new URLSearchParams(await input.text());
      const token = form.get('token');
      asked.push({
        token,
        hint: form.get('token_type_hint'),
        authorization: input.headers.get('authorization'),
        form,
      });
      if (gate) await gate;
      const answer = answers.get(token ?? '') ?? { active: false };
      return typeof answer === 'function' ? answer(token ?? '') : Response.json(answer);
    }
    return new Response('{"error":"not_found"}', { status: 404 });
  };
  return {
    fetch,
    asked,
    key,
    discoveryWithout,
    answer: (token, answer) => void answers.set(token, answer),
    failWith(next) {
      failure = next;
    },
    hold() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return { release };
    },
  };
}

/** An active answer for a client-credentials token, as oidc-provider gives it. */
function activeAnswer(
  now: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const answer: Record<string, unknown> = {
    active: true,
    client_id: 'orders-worker',
    sub: 'orders-worker',
    scope: 'orders:read orders:write',
    aud: AUDIENCE,
    iss: ISSUER,
    iat: now,
    exp: now + 300,
    token_type: 'Bearer',
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete answer[name];
    else answer[name] = value;
  }
  return answer;
}

interface Setup {
  as: FakeAs;
  clock: ManualClock;
  events: ResourceServerEvent[];
  server: ReturnType<typeof createResourceServer>;
  now(): number;
}

async function setup(
  options: Partial<ResourceServerOptions> = {},
  introspection: Partial<NonNullable<ResourceServerOptions['introspection']>> = {},
): Promise<Setup> {
  const as = await fakeAs();
  const clock = manualClock(START);
  const events: ResourceServerEvent[] = [];
  const server = createResourceServer({
    issuer: ISSUER,
    audience: AUDIENCE,
    fetch: as.fetch,
    now: clock.now,
    onEvent: (event) => events.push(event),
    introspection: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...introspection },
    ...options,
  });
  return { as, clock, events, server, now: () => clock.seconds() };
}

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError);
    return error as TokenError;
  }
  throw new Error('expected a TokenError, but the call resolved');
}

describe('the introspection option', () => {
  const base = { issuer: ISSUER, audience: AUDIENCE };

  it('refuses an unknown key inside it, naming the closest known one', () => {
    const make = () =>
      createResourceServer({
        ...base,
        introspection: { clientId: CLIENT_ID, clientSecert: CLIENT_SECRET } as never,
      });
    expect(make).toThrow(OptionError);
    expect(make).toThrow(
      /unknown option `introspection\.clientSecert`; did you mean `introspection\.clientSecret`\?/,
    );
    try {
      make();
    } catch (error) {
      expect(error).toMatchObject({
        code: 'ERR_UNKNOWN_OPTION',
        option: 'introspection.clientSecert',
        suggestion: 'introspection.clientSecret',
      });
      expect(String(error)).not.toContain(CLIENT_SECRET);
    }
  });

  it('requires the client id and secret, and never shows the secret it was given', () => {
    expect(() =>
      createResourceServer({ ...base, introspection: { clientSecret: CLIENT_SECRET } as never }),
    ).toThrow(/`introspection\.clientId` must be a non-empty string/);
    expect(() => createResourceServer({ ...base, introspection: { clientId: CLIENT_ID } })).toThrow(
      /`introspection\.clientSecret` must be a non-empty string/,
    );
    try {
      createResourceServer({
        ...base,
        introspection: {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          clientAuth: 'secret' as never,
        },
      });
      throw new Error('expected a TypeError');
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/introspection\.clientAuth/);
      expect(inspect(error)).not.toContain(CLIENT_SECRET);
    }
  });

  it('checks jwt, the cache bounds and the endpoint URL', () => {
    const credentials = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
    const make = (extra: Record<string, unknown>) => () =>
      createResourceServer({ ...base, introspection: { ...credentials, ...extra } });
    expect(make({ jwt: 'sometimes' })).toThrow(/`introspection\.jwt` must be 'never' or 'always'/);
    expect(make({ cacheMaxSeconds: -1 })).toThrow(
      /`introspection\.cacheMaxSeconds` must be a non-negative number/,
    );
    expect(make({ cacheMaxEntries: 0 })).toThrow(
      /`introspection\.cacheMaxEntries` must be a positive number/,
    );
    expect(make({ cacheMaxEntries: 2.5 })).toThrow(
      /`introspection\.cacheMaxEntries` must be an integer/,
    );
    expect(make({ introspectionEndpoint: 'http://idp.example.test/introspect' })).toThrow(
      expect.objectContaining({ code: 'ERR_INSECURE_HTTP' }) as Error,
    );
    expect(
      make({ cacheMaxSeconds: 0, jwt: 'always', clientAuth: 'client_secret_post' }),
    ).not.toThrow();
  });
});

describe('which tokens are introspected', () => {
  it('refuses an opaque token as malformed when introspection is not configured, asking nobody', async () => {
    const { as, clock } = await setup();
    const server = createResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      fetch: as.fetch,
      now: clock.now,
    });
    as.answer(OPAQUE, activeAnswer(clock.seconds()));
    const error = await rejection(server.verifyToken(OPAQUE));
    expect(error).toMatchObject({ reason: 'malformed', status: 401, error: 'invalid_token' });
    expect(as.asked).toEqual([]);
  });

  it('verifies a compact JWS locally and never introspects it by default', async () => {
    const { as, server, now } = await setup();
    const token = await accessToken(as.key, now());
    await expect(server.verifyToken(token)).resolves.toMatchObject({ iss: ISSUER, aud: AUDIENCE });
    expect(as.asked).toEqual([]);
    // A forged three-part token is a JWT to verify, not an opaque token to ask about.
    const forged = `${token.slice(0, -8)}AAAAAAAA`;
    expect(await rejection(server.verifyToken(forged))).toMatchObject({ reason: 'signature' });
    expect(as.asked).toEqual([]);
  });

  it('asks about anything else: a token without dots, a JWE of five parts', async () => {
    const { as, server, now } = await setup();
    const jwe = 'eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn';
    for (const token of [OPAQUE, jwe]) as.answer(token, activeAnswer(now()));
    await server.verifyToken(OPAQUE);
    await server.verifyToken(jwe);
    expect(as.asked.map((asked) => asked.token)).toEqual([OPAQUE, jwe]);
  });

  it('sends nothing that could not be a Bearer token, nor one longer than maxTokenLength', async () => {
    const { as, server } = await setup({ maxTokenLength: 64 });
    for (const token of ['has space', 'new\nline', 'a'.repeat(65), 'ünïcode', '=leading']) {
      const error = await rejection(server.verifyToken(token));
      expect(error).toMatchObject({ reason: 'malformed', status: 401 });
    }
    expect(as.asked).toEqual([]);
  });
});

describe('an introspection answer', () => {
  it('verifies an active opaque token and returns its claims, without `active`', async () => {
    const { as, server, now } = await setup();
    as.answer(OPAQUE, activeAnswer(now(), { tenant: 'eu-1' }));
    const claims = await server.verifyToken(OPAQUE, { requiredScopes: 'orders:read' });
    expect(claims).toEqual({ ...activeAnswer(now(), { tenant: 'eu-1' }), active: undefined });
    expect(claims).not.toHaveProperty('active');
    expect(as.asked).toHaveLength(1);
    expect(as.asked[0]).toMatchObject({ token: OPAQUE, hint: 'access_token' });
    expect(as.asked[0]?.authorization).toMatch(/^Basic /);
    expect(as.asked[0]?.form.has('client_secret')).toBe(false);
  });

  it('sends the credentials in the form with client_secret_post', async () => {
    const { as, server, now } = await setup({}, { clientAuth: 'client_secret_post' });
    as.answer(OPAQUE, activeAnswer(now()));
    await server.verifyToken(OPAQUE);
    expect(as.asked[0]?.authorization).toBeNull();
    expect(as.asked[0]?.form.get('client_id')).toBe(CLIENT_ID);
    expect(as.asked[0]?.form.get('client_secret')).toBe(CLIENT_SECRET);
  });

  it('uses the configured endpoint without discovery', async () => {
    const { as, clock } = await setup();
    const urls: string[] = [];
    const server = createResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      now: clock.now,
      fetch: (input, init) => {
        urls.push(input.url);
        return as.fetch(input, init);
      },
      introspection: {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        introspectionEndpoint: INTROSPECTION_URL,
      },
    });
    as.answer(OPAQUE, activeAnswer(clock.seconds()));
    await server.verifyToken(OPAQUE);
    expect(urls).toEqual([INTROSPECTION_URL]);
  });

  it('refuses an inactive token with 401 invalid_token, reason inactive', async () => {
    const { server } = await setup();
    const error = await rejection(server.verifyToken(OPAQUE));
    expect(error).toMatchObject({
      reason: 'inactive',
      status: 401,
      error: 'invalid_token',
      wwwAuthenticate: 'Bearer error="invalid_token", error_description="the token is not active"',
    });
    expect(error.message).not.toContain(OPAQUE);
  });

  it('refuses an answer from another issuer, and fills in the issuer when the answer names none', async () => {
    const { as, server, now } = await setup();
    as.answer(OPAQUE, activeAnswer(now(), { iss: 'https://other.example.test' }));
    expect(await rejection(server.verifyToken(OPAQUE))).toMatchObject({
      reason: 'issuer',
      status: 401,
    });
    as.answer('second-token', activeAnswer(now(), { iss: undefined }));
    await expect(server.verifyToken('second-token')).resolves.toMatchObject({ iss: ISSUER });
  });

  it('refuses an answer without exp', async () => {
    const { as, server, now } = await setup();
    as.answer(OPAQUE, activeAnswer(now(), { exp: undefined }));
    expect(await rejection(server.verifyToken(OPAQUE))).toMatchObject({
      reason: 'claims',
      claim: 'exp',
    });
  });

  it('checks exp and nbf on the injected clock, with the clock tolerance', async () => {
    const { as, server, now } = await setup({ clockToleranceSeconds: 30 });
    as.answer('expired', activeAnswer(now(), { exp: now() - 31 }));
    as.answer('just-expired', activeAnswer(now(), { exp: now() - 29 }));
    as.answer('early', activeAnswer(now(), { nbf: now() + 31 }));
    expect(await rejection(server.verifyToken('expired'))).toMatchObject({ reason: 'expired' });
    await expect(server.verifyToken('just-expired')).resolves.toMatchObject({ iss: ISSUER });
    expect(await rejection(server.verifyToken('early'))).toMatchObject({ reason: 'not_yet_valid' });
  });

  it('checks the audience: the default, a per-call one, and none in the answer', async () => {
    const { as, server, now } = await setup();
    as.answer(OPAQUE, activeAnswer(now(), { aud: ['https://other.example.test', AUDIENCE] }));
    as.answer('elsewhere', activeAnswer(now(), { aud: 'https://other.example.test' }));
    as.answer('nowhere', activeAnswer(now(), { aud: undefined }));
    await expect(server.verifyToken(OPAQUE)).resolves.toMatchObject({
      scope: 'orders:read orders:write',
    });
    expect(await rejection(server.verifyToken('elsewhere'))).toMatchObject({
      reason: 'audience',
      status: 401,
    });
    expect(await rejection(server.verifyToken('nowhere'))).toMatchObject({ reason: 'audience' });
    await expect(
      server.verifyToken('elsewhere', { audience: 'https://other.example.test' }),
    ).resolves.toMatchObject({ iss: ISSUER });
    // The cached answer is checked against each call's audience.
    expect(
      await rejection(server.verifyToken(OPAQUE, { audience: 'https://third.example.test' })),
    ).toMatchObject({ reason: 'audience' });
  });

  it('accepts any audience only with audience: null', async () => {
    const { as, server, now } = await setup({ audience: null });
    as.answer(OPAQUE, activeAnswer(now(), { aud: undefined }));
    await expect(server.verifyToken(OPAQUE)).resolves.toMatchObject({ iss: ISSUER });
  });

  it('checks the required scopes in `scope`, with 403 insufficient_scope', async () => {
    const { as, server, now } = await setup({ requiredScopes: 'orders:read' });
    as.answer(OPAQUE, activeAnswer(now(), { scope: 'orders:write' }));
    const error = await rejection(server.verifyToken(OPAQUE));
    expect(error).toMatchObject({ reason: 'scope', status: 403, error: 'insufficient_scope' });
    expect(error.wwwAuthenticate).toContain('scope="orders:read"');
  });

  it('accepts a token_type of Bearer or DPoP in any case, and refuses any other', async () => {
    const { as, server, now } = await setup();
    const dpopKey = await makeDpopKey();
    as.answer('bearer', activeAnswer(now(), { token_type: 'bearer' }));
    as.answer('dpop', activeAnswer(now(), { token_type: 'dpop', cnf: { jkt: dpopKey.jkt } }));
    as.answer('refresh', activeAnswer(now(), { token_type: 'refresh_token' }));
    await expect(server.verifyToken('bearer')).resolves.toMatchObject({ token_type: 'bearer' });
    await expect(server.verifyToken('dpop')).resolves.toMatchObject({ cnf: { jkt: dpopKey.jkt } });
    const error = await rejection(server.verifyToken('refresh'));
    expect(error).toMatchObject({ reason: 'type', status: 401, error: 'invalid_token' });
    expect(error.message).toContain('token_type is "refresh_token"; expected Bearer or DPoP');
  });

  it('refuses a DPoP token_type without a key, and a cnf.jkt that is not a thumbprint string', async () => {
    const { as, server, now } = await setup();
    as.answer('unbound', activeAnswer(now(), { token_type: 'DPoP' }));
    as.answer('empty', activeAnswer(now(), { cnf: { jkt: '' } }));
    expect(await rejection(server.verifyToken('unbound'))).toMatchObject({ reason: 'dpop' });
    expect(await rejection(server.verifyToken('empty'))).toMatchObject({
      reason: 'claims',
      claim: 'cnf',
    });
  });

  it('hands each caller its own copy of the claims', async () => {
    const { as, server, now } = await setup();
    as.answer(OPAQUE, activeAnswer(now()));
    const first = await server.verifyToken(OPAQUE);
    first.scope = 'admin';
    (first as Record<string, unknown>).aud = 'x';
    await expect(server.verifyToken(OPAQUE)).resolves.toMatchObject({
      scope: 'orders:read orders:write',
      aud: AUDIENCE,
    });
  });
});

describe('the cache of active answers', () => {
  it('reuses an active answer until cacheMaxSeconds have passed, then asks again', async () => {
    const { as, server, clock, events, now } = await setup({}, { cacheMaxSeconds: 60 });
    as.answer(OPAQUE, activeAnswer(now()));
    await server.verifyToken(OPAQUE);
    clock.advance(59);
    await server.verifyToken(OPAQUE);
    expect(as.asked).toHaveLength(1);
    expect(events.filter((event) => event.type === 'introspection_cache_hit')).toHaveLength(1);
    // Revoked at the authorization server: refused once the cached answer is too old.
    as.answer(OPAQUE, { active: false });
    clock.advance(1);
    expect(await rejection(server.verifyToken(OPAQUE))).toMatchObject({ reason: 'inactive' });
    expect(as.asked).toHaveLength(2);
  });

  it('never reuses an answer past the token exp less the clock tolerance', async () => {
    const { as, server, clock, now } = await setup(
      { clockToleranceSeconds: 30 },
      { cacheMaxSeconds: 600 },
    );
    as.answer(OPAQUE, activeAnswer(now(), { exp: now() + 40 }));
    await server.verifyToken(OPAQUE);
    clock.advance(9);
    await server.verifyToken(OPAQUE);
    expect(as.asked).toHaveLength(1);
    clock.advance(1);
    as.answer(OPAQUE, { active: false });
    expect(await rejection(server.verifyToken(OPAQUE))).toMatchObject({ reason: 'inactive' });
    expect(as.asked).toHaveLength(2);
  });

  it('does not cache an answer whose exp, less the tolerance, has already come', async () => {
    const { as, server, now } = await setup({ clockToleranceSeconds: 30 });
    as.answer(OPAQUE, activeAnswer(now(), { exp: now() + 30 }));
    await server.verifyToken(OPAQUE);
    await server.verifyToken(OPAQUE);
    expect(as.asked).toHaveLength(2);
  });

  it('asks about every request with cacheMaxSeconds 0', async () => {
    const { as, server, now } = await setup({}, { cacheMaxSeconds: 0 });
    as.answer(OPAQUE, activeAnswer(now()));
    await server.verifyToken(OPAQUE);
    await server.verifyToken(OPAQUE);
    expect(as.asked).toHaveLength(2);
  });

  it('never caches an inactive answer', async () => {
    const { as, server, now } = await setup();
    expect(await rejection(server.verifyToken(OPAQUE))).toMatchObject({ reason: 'inactive' });
    as.answer(OPAQUE, activeAnswer(now()));
    await expect(server.verifyToken(OPAQUE)).resolves.toMatchObject({ iss: ISSUER });
    expect(as.asked).toHaveLength(2);
  });

  it('never caches an active answer that failed a check', async () => {
    const { as, server, now } = await setup();
    as.answer(OPAQUE, activeAnswer(now(), { iss: 'https://other.example.test' }));
    await rejection(server.verifyToken(OPAQUE));
    await rejection(server.verifyToken(OPAQUE));
    expect(as.asked).toHaveLength(2);
  });

  it('shares one request between concurrent callers with the same token', async () => {
    const { as, server, now } = await setup();
    as.answer(OPAQUE, activeAnswer(now()));
    as.answer('other', activeAnswer(now()));
    const gate = as.hold();
    const calls = [
      ...Array.from({ length: 5 }, () => server.verifyToken(OPAQUE)),
      server.verifyToken('other'),
    ];
    await new Promise((resolve) => setTimeout(resolve, 10));
    gate.release();
    await Promise.all(calls);
    expect(as.asked.map((asked) => asked.token)).toEqual([OPAQUE, 'other']);
  });

  it('shares a failure between concurrent callers, and remembers none of it', async () => {
    const { as, server, now } = await setup();
    as.answer(OPAQUE, () => new Response('{"error":"server_error"}', { status: 500 }));
    const gate = as.hold();
    const calls = Array.from({ length: 3 }, () => rejection(server.verifyToken(OPAQUE)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    gate.release();
    for (const error of await Promise.all(calls)) {
      expect(error).toMatchObject({ reason: 'introspection', status: 503 });
    }
    expect(as.asked).toHaveLength(1);
    as.answer(OPAQUE, activeAnswer(now()));
    await expect(server.verifyToken(OPAQUE)).resolves.toMatchObject({ iss: ISSUER });
  });

  it('holds at most cacheMaxEntries answers, forgetting the least recently used', async () => {
    const { as, server, now } = await setup({}, { cacheMaxEntries: 2 });
    for (const token of ['one', 'two', 'three']) as.answer(token, activeAnswer(now()));
    await server.verifyToken('one');
    await server.verifyToken('two');
    await server.verifyToken('one'); // `two` is now the least recently used
    await server.verifyToken('three');
    expect(as.asked.map((asked) => asked.token)).toEqual(['one', 'two', 'three']);
    await server.verifyToken('one');
    await server.verifyToken('two');
    expect(as.asked.map((asked) => asked.token)).toEqual(['one', 'two', 'three', 'two']);
  });
});

describe('when the authorization server cannot be asked', () => {
  it('answers 503 with Retry-After when it is unreachable, the NetworkError as cause', async () => {
    const { as, server, events } = await setup();
    as.failWith('down');
    const error = await rejection(server.verifyToken(OPAQUE));
    expect(error).toMatchObject({
      reason: 'introspection',
      status: 503,
      retryAfter: 5,
      error: 'temporarily_unavailable',
    });
    expect(error.wwwAuthenticate).toMatch(/^Bearer$/);
    expect(error.cause).toBeInstanceOf(NetworkError);
    expect(error.cause).toMatchObject({ code: 'refused' });
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'token_introspected', ok: false }),
    );
    expect(events.at(-1)).toEqual({
      type: 'verification_failed',
      reason: 'introspection',
      status: 503,
    });
  });

  it('answers 503 when the server refuses the resource server itself (invalid_client)', async () => {
    const { as, server } = await setup();
    as.answer(OPAQUE, () => Response.json({ error: 'invalid_client' }, { status: 401 }));
    const error = await rejection(server.verifyToken(OPAQUE));
    expect(error).toMatchObject({ reason: 'introspection', status: 503 });
    expect(error.cause).toBeInstanceOf(OAuthError);
    expect(error.cause).toMatchObject({ code: 'invalid_client', status: 401 });
  });

  it('answers 503 for an answer that breaks RFC 7662, never taking it for active', async () => {
    const { as, server } = await setup();
    as.answer(OPAQUE, () => Response.json({ active: 'true', exp: 'soon' }));
    as.answer('html', () => new Response('<html>login</html>', { status: 200 }));
    const schema = await rejection(server.verifyToken(OPAQUE));
    expect(schema).toMatchObject({ reason: 'introspection', status: 503 });
    expect(schema.cause).toBeInstanceOf(ProtocolError);
    expect(schema.cause).toMatchObject({ code: 'schema' });
    const html = await rejection(server.verifyToken('html'));
    expect(html.cause).toMatchObject({ code: 'not_json' });
  });

  it('answers 503 when discovery publishes no introspection endpoint', async () => {
    const { as, server } = await setup();
    as.discoveryWithout.add('introspection_endpoint');
    const error = await rejection(server.verifyToken(OPAQUE));
    expect(error).toMatchObject({ reason: 'introspection', status: 503 });
    expect(error.cause).toMatchObject({ code: 'missing_endpoint' });
  });

  it('lets the token, the secret and the Basic credential appear in no error or event', async () => {
    const { clock } = await setup();
    const events: ResourceServerEvent[] = [];
    const leaky: FetchLike = async (input) => {
      // A fetch (or proxy library) that quotes the request it failed on.
      const body = await input.text();
      throw new Error(`cannot send ${input.headers.get('authorization')} with ${body}`, {
        cause: new Error(`token=${OPAQUE} secret=${CLIENT_SECRET}`),
      });
    };
    const server = createResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      fetch: leaky,
      now: clock.now,
      onEvent: (event) => events.push(event),
      introspection: {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        introspectionEndpoint: INTROSPECTION_URL,
      },
    });
    const error = await rejection(server.verifyToken(OPAQUE));
    expect(error).toMatchObject({ reason: 'introspection', status: 503 });
    const basic = btoa(`${CLIENT_ID}:${encodeURIComponent(CLIENT_SECRET).replace(/%20/g, '+')}`);
    const seen = [
      inspect(error, { depth: 10 }),
      inspect(events, { depth: 10 }),
      JSON.stringify(error),
      String(error),
    ].join('\n');
    for (const secret of [OPAQUE, CLIENT_SECRET, encodeURIComponent(CLIENT_SECRET), basic]) {
      expect(seen).not.toContain(secret);
    }
    expect(inspect(server)).not.toContain(CLIENT_SECRET);
  });
});

describe('DPoP-bound opaque tokens in verifyRequest', () => {
  async function bound() {
    const context = await setup();
    const dpopKey = await makeDpopKey();
    context.as.answer(
      OPAQUE,
      activeAnswer(context.now(), { token_type: 'DPoP', cnf: { jkt: dpopKey.jkt } }),
    );
    return { ...context, dpopKey };
  }

  it('accepts the token with the DPoP scheme and a proof by its key', async () => {
    const { server, dpopKey, now } = await bound();
    const proof = await dpopProof(dpopKey, now(), { accessToken: OPAQUE });
    const claims = await server.verifyRequest(
      request({ authorization: `DPoP ${OPAQUE}`, dpop: proof }),
    );
    expect(claims).toMatchObject({ cnf: { jkt: dpopKey.jkt }, client_id: 'orders-worker' });
  });

  it('refuses it sent as Bearer, challenging with DPoP', async () => {
    const { server } = await bound();
    const error = await rejection(
      server.verifyRequest(request({ authorization: `Bearer ${OPAQUE}` })),
    );
    expect(error).toMatchObject({ reason: 'dpop', status: 401, error: 'invalid_token' });
    expect(error.wwwAuthenticate).toMatch(/^DPoP /);
  });

  it('refuses a proof by another key, and a proof for another token', async () => {
    const { server, now } = await bound();
    const stranger = await makeDpopKey();
    const foreign = await dpopProof(stranger, now(), { accessToken: OPAQUE });
    const error = await rejection(
      server.verifyRequest(request({ authorization: `DPoP ${OPAQUE}`, dpop: foreign })),
    );
    expect(error).toMatchObject({ reason: 'dpop', error: 'invalid_dpop_proof' });
  });

  it('refuses an unbound opaque token sent with the DPoP scheme', async () => {
    const { as, server, now } = await setup();
    const dpopKey = await makeDpopKey();
    as.answer(OPAQUE, activeAnswer(now()));
    const proof = await dpopProof(dpopKey, now(), { accessToken: OPAQUE });
    const error = await rejection(
      server.verifyRequest(request({ authorization: `DPoP ${OPAQUE}`, dpop: proof })),
    );
    expect(error).toMatchObject({ reason: 'dpop', status: 401 });
  });

  it('verifies the same DPoP request again for a second guard without a replay', async () => {
    const { as, server, dpopKey, now } = await bound();
    const proof = await dpopProof(dpopKey, now(), { accessToken: OPAQUE, htu: RESOURCE_URL });
    const incoming = request({ authorization: `DPoP ${OPAQUE}`, dpop: proof });
    await server.verifyRequest(incoming);
    await expect(
      server.verifyRequest(incoming, { requiredScopes: 'orders:write' }),
    ).resolves.toMatchObject({
      scope: 'orders:read orders:write',
    });
    expect(as.asked).toHaveLength(1);
  });
});

describe('introspection of JWTs (jwt: always)', () => {
  it('verifies a JWT locally and then asks whether it is still active', async () => {
    const { as, server, clock, now } = await setup({}, { jwt: 'always', cacheMaxSeconds: 30 });
    const token = await accessToken(as.key, now(), { scope: 'orders:read' });
    as.answer(token, activeAnswer(now(), { scope: 'introspected' }));
    const claims = await server.verifyToken(token);
    expect(claims).toMatchObject({ scope: 'orders:read', iss: ISSUER });
    expect(as.asked.map((asked) => asked.token)).toEqual([token]);
    as.answer(token, { active: false });
    clock.advance(30);
    expect(await rejection(server.verifyToken(token))).toMatchObject({ reason: 'inactive' });
  });

  it('asks nothing about a JWT that fails local verification', async () => {
    const { as, server, now } = await setup({}, { jwt: 'always' });
    const token = await accessToken(as.key, now());
    const forged = `${token.slice(0, -8)}AAAAAAAA`;
    as.answer(forged, activeAnswer(now()));
    expect(await rejection(server.verifyToken(forged))).toMatchObject({ reason: 'signature' });
    expect(as.asked).toEqual([]);
  });

  it('refuses a JWT whose introspection answer names another DPoP key, or one the JWT lacks', async () => {
    const { as, server, now } = await setup({}, { jwt: 'always' });
    const [bound, other] = [await makeDpopKey(), await makeDpopKey()];
    const boundJwt = await accessToken(as.key, now(), { cnf: { jkt: bound.jkt } });
    const plainJwt = await accessToken(as.key, now());
    as.answer(boundJwt, activeAnswer(now(), { token_type: 'DPoP', cnf: { jkt: other.jkt } }));
    as.answer(plainJwt, activeAnswer(now(), { token_type: 'DPoP', cnf: { jkt: other.jkt } }));
    expect(await rejection(server.verifyToken(boundJwt))).toMatchObject({ reason: 'dpop' });
    expect(await rejection(server.verifyToken(plainJwt))).toMatchObject({ reason: 'dpop' });
    const fresh = await accessToken(as.key, now(), { cnf: { jkt: bound.jkt } });
    as.answer(fresh, activeAnswer(now(), { token_type: 'DPoP', cnf: { jkt: bound.jkt } }));
    await expect(server.verifyToken(fresh)).resolves.toMatchObject({ cnf: { jkt: bound.jkt } });
  });

  it('refuses a JWT whose introspection answer is for another audience', async () => {
    const { as, server, now } = await setup({}, { jwt: 'always' });
    const token = await accessToken(as.key, now());
    as.answer(token, activeAnswer(now(), { aud: 'https://other.example.test' }));
    expect(await rejection(server.verifyToken(token))).toMatchObject({ reason: 'audience' });
  });
});

describe('introspection events', () => {
  it('reports each request to the endpoint and each cache hit, never the token', async () => {
    const { as, server, events, now } = await setup();
    as.answer(OPAQUE, activeAnswer(now()));
    await server.verifyToken(OPAQUE);
    await server.verifyToken(OPAQUE);
    await rejection(server.verifyToken('inactive-token'));
    expect(events).toEqual([
      { type: 'token_introspected', ok: true, active: true, durationMs: 0 },
      { type: 'introspection_cache_hit' },
      { type: 'token_introspected', ok: true, active: false, durationMs: 0 },
      { type: 'verification_failed', reason: 'inactive', status: 401 },
    ]);
    expect(JSON.stringify(events)).not.toContain(OPAQUE);
  });
});
