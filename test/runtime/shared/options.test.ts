/**
 * Options are checked when a factory or method is called: a misspelt key is a TypeError that
 * names the key it most likely meant (instead of a check silently left off), plain HTTP to a
 * host that is not loopback is refused unless asked for, and an option set to `undefined` is
 * the same as one left out.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createDpopKey,
  createMemoryReplayStore,
  createMemoryStore,
  createResourceServer,
  introspectToken,
  revokeToken,
} from '../../../src/index.js';
import { createOpenTelemetryObserver } from '../../../src/otel.js';
import { createRedisStore, type RedisClientLike } from '../../../src/redis.js';
import {
  closestKey,
  optionKeys,
  OptionError,
  rejectUnknownOptions,
} from '../../../src/runtime/shared/options.js';
import { fakeFetch, json } from '../fake-fetch.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const ISSUER = 'https://idp.example.test';
const SECRET = 'hunter2-correct-horse-battery-staple';

/** The error `run` throws or rejects with. */
async function failure(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure, got none');
}

/** A fetch that answers every token request, so only option checks can fail. */
const tokens = () =>
  fakeFetch(() => json({ access_token: 'at', token_type: 'Bearer', expires_in: 300 }));

const client = (extra: Record<string, unknown> = {}) =>
  createAuthClient({
    issuer: ISSUER,
    clientId: 'billing',
    clientSecret: 'secret',
    tokenEndpoint: `${ISSUER}/token`,
    fetch: tokens(),
    ...extra,
  });

const AUDIENCE = 'https://orders.example.com';

const server = () => createResourceServer({ issuer: ISSUER, audience: AUDIENCE, fetch: tokens() });

/** The commands createRedisStore needs, none of them called by the factory. */
const redis = Object.fromEntries(
  ['get', 'set', 'del', 'pttl', 'eval', 'publish', 'duplicate'].map((name) => [
    name,
    () => {
      throw new Error(`${name} was called`);
    },
  ]),
) as unknown as RedisClientLike;

const caller = { clientId: 'orders', clientSecret: 'secret', token: 'opaque', fetch: tokens() };

describe('rejectUnknownOptions', () => {
  const known = ['issuer', 'clientId', 'clientSecret', 'scope', 'dpop'] as const;

  it('accepts an object whose keys are all known, and a known key set to undefined', () => {
    expect(() =>
      rejectUnknownOptions({ issuer: 'x', clientSecret: undefined }, known, 'f'),
    ).not.toThrow();
    expect(() => rejectUnknownOptions({}, known, 'f')).not.toThrow();
  });

  it.each([
    ['a different case', 'DPoP', 'dpop'],
    ['snake case', 'client_id', 'clientId'],
    ['two letters swapped', 'clientSecert', 'clientSecret'],
    ['a plural', 'scopes', 'scope'],
    ['a letter missing', 'isuer', 'issuer'],
  ])('names the closest known key for %s (%s → %s)', (_case, typed, meant) => {
    const error = (() => {
      try {
        rejectUnknownOptions({ [typed]: 1 }, known, 'createThing');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(OptionError);
    expect(error).toMatchObject({ code: 'ERR_UNKNOWN_OPTION', option: typed, suggestion: meant });
    expect((error as Error).message).toBe(
      `createThing: unknown option \`${typed}\`; did you mean \`${meant}\`?`,
    );
  });

  it('lists the known keys when none is close', () => {
    expect(() => rejectUnknownOptions({ colour: 'blue' }, known, 'createThing')).toThrow(
      'createThing: unknown option `colour`; the options are issuer, clientId, clientSecret, scope, dpop',
    );
  });

  it('names a nested key by its path', async () => {
    const error = await failure(() =>
      rejectUnknownOptions({ maxAttempt: 3 }, ['maxAttempts'], 'createAuthClient', 'retry'),
    );
    expect(error).toMatchObject({
      code: 'ERR_UNKNOWN_OPTION',
      option: 'retry.maxAttempt',
      suggestion: 'retry.maxAttempts',
      message:
        'createAuthClient: unknown option `retry.maxAttempt`; did you mean `retry.maxAttempts`?',
    });
  });

  it('never shows the value of a misspelt option: it may be a secret', async () => {
    for (const value of [SECRET, { nested: SECRET }, [SECRET]]) {
      const error = await failure(() =>
        rejectUnknownOptions({ clientSecert: value }, known, 'createThing'),
      );
      expect(String(error)).not.toContain('hunter2');
      expect(JSON.stringify(error)).not.toContain('hunter2');
    }
  });

  it('refuses an unknown key even when its value is undefined: a typo is a typo', () => {
    expect(() => rejectUnknownOptions({ scopes: undefined }, known, 'f')).toThrow(
      /unknown option `scopes`; did you mean `scope`\?/,
    );
  });

  it('refuses symbol keys and shortens long or unprintable keys', async () => {
    expect(() => rejectUnknownOptions({ [Symbol('scope')]: 1 }, known, 'f')).toThrow(
      /unknown option `Symbol\(scope\)`; the options are/,
    );
    const long = await failure(() => rejectUnknownOptions({ ['x'.repeat(500)]: 1 }, known, 'f'));
    expect((long as Error).message.length).toBeLessThan(200);
    expect(() => rejectUnknownOptions({ 'a\nb': 1 }, known, 'f')).toThrow(/`"a\\nb"`/);
  });

  it('looks only at own enumerable keys', () => {
    const inherited = Object.create({ colour: 'blue' }) as object;
    Object.defineProperty(inherited, 'hidden', { value: 1, enumerable: false });
    expect(() => rejectUnknownOptions(inherited, known, 'f')).not.toThrow();
  });

  it.each([
    ['null', null],
    ['an array', []],
    ['a string', 'https://idp.example.test'],
    ['a number', 42],
    ['a function', () => ({})],
    ['undefined', undefined],
  ])('refuses %s instead of an options object', async (kind, value) => {
    const error = await failure(() => rejectUnknownOptions(value, known, 'createThing'));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: `createThing: options must be an object, not ${kind}`,
    });
  });
});

describe('closestKey', () => {
  it('prefers the nearest name, and a name that contains the typed one', () => {
    expect(closestKey('audiences', ['audience', 'requiredScopes'])).toBe('audience');
    expect(closestKey('scopes', ['audience', 'requiredScopes'])).toBe('requiredScopes');
    expect(closestKey('fetchImpl', ['fetch', 'now'])).toBe('fetch');
    expect(closestKey('jwksUrl', ['jwksUri', 'jwksCooldownSeconds'])).toBe('jwksUri');
  });

  it('suggests nothing for a name far from every known one', () => {
    expect(closestKey('colour', ['issuer', 'audience'])).toBeUndefined();
    expect(closestKey('foo', ['now', 'typ'])).toBeUndefined();
  });
});

describe('optionKeys', () => {
  interface Example {
    required: string;
    optional?: number | undefined;
  }

  it('returns the list, frozen', () => {
    const keys = optionKeys<Example>()(['required', 'optional']);
    expect(keys).toEqual(['required', 'optional']);
    expect(Object.isFrozen(keys)).toBe(true);
  });

  it('does not compile with a key missing or a key the interface lacks', () => {
    // @ts-expect-error `optional` is missing from the list
    optionKeys<Example>()(['required']);
    // @ts-expect-error `extra` is not an option
    optionKeys<Example>()(['required', 'optional', 'extra']);
  });
});

describe('every factory and method refuses a misspelt option', () => {
  const keyPair = () =>
    crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);

  const cases: [string, () => unknown, string, string][] = [
    ['createAuthClient: scopes', () => client({ scopes: 'orders:read' }), 'scopes', 'scope'],
    ['createAuthClient: DPoP', () => client({ DPoP: true }), 'DPoP', 'dpop'],
    [
      'createAuthClient: tokenEndpont',
      () => client({ tokenEndpont: `${ISSUER}/other` }),
      'tokenEndpont',
      'tokenEndpoint',
    ],
    [
      'createAuthClient: client_secret',
      () =>
        createAuthClient({ issuer: ISSUER, clientId: 'billing', client_secret: SECRET } as never),
      'client_secret',
      'clientSecret',
    ],
    [
      'createAuthClient: refreshSkew',
      () => client({ refreshSkew: 60 }),
      'refreshSkew',
      'refreshSkewSeconds',
    ],
    [
      'createAuthClient: retry.maxAttempt',
      () => client({ retry: { maxAttempt: 1 } }),
      'retry.maxAttempt',
      'retry.maxAttempts',
    ],
    [
      'createAuthClient: circuitBreaker.threshold',
      () => client({ circuitBreaker: { threshold: 1 } }),
      'circuitBreaker.threshold',
      'circuitBreaker.failureThreshold',
    ],
    [
      'createAuthClient: refreshAhead.seconds',
      () => client({ refreshAhead: { seconds: 5 } }),
      'refreshAhead.seconds',
      'refreshAhead.refreshAheadSeconds',
    ],
    [
      'createAuthClient: dpop.algorithm',
      async () => client({ dpop: { ...(await keyPair()), algorithm: 'ES256' } }),
      'dpop.algorithm',
      'dpop.alg',
    ],
    [
      'getToken: scopes',
      () => client().getToken({ scopes: 'orders:read' } as never),
      'scopes',
      'scope',
    ],
    [
      'getAccessToken: forcedRefresh',
      () => client().getAccessToken({ forcedRefresh: true } as never),
      'forcedRefresh',
      'forceRefresh',
    ],
    [
      'buildDpopProof: access_token',
      () =>
        client({ dpop: true }).buildDpopProof({
          htm: 'GET',
          htu: `${ISSUER}/x`,
          access_token: 'at',
        } as never),
      'access_token',
      'accessToken',
    ],
    [
      'createDpopKey: Now',
      () => createDpopKey(true, { Now: () => new Date() } as never),
      'Now',
      'now',
    ],
    [
      'createDpopKey: key.algorithm',
      async () => createDpopKey({ ...(await keyPair()), algorithm: 'ES256' } as never),
      'key.algorithm',
      'key.alg',
    ],
    [
      'createDpopKey().buildDpopProof: nonces',
      () =>
        createDpopKey().buildDpopProof({ htm: 'GET', htu: `${ISSUER}/x`, nonces: 'n' } as never),
      'nonces',
      'nonce',
    ],
    [
      'createResourceServer: audiences',
      () => createResourceServer({ issuer: ISSUER, audiences: 'https://api' } as never),
      'audiences',
      'audience',
    ],
    [
      'createResourceServer: scope',
      () => createResourceServer({ issuer: ISSUER, scope: 'orders:read' } as never),
      'scope',
      'requiredScopes',
    ],
    [
      'createResourceServer: DPoP',
      () => createResourceServer({ issuer: ISSUER, DPoP: { required: true } } as never),
      'DPoP',
      'dpop',
    ],
    [
      'createResourceServer: dpop.require',
      () => createResourceServer({ issuer: ISSUER, dpop: { require: true } } as never),
      'dpop.require',
      'dpop.required',
    ],
    [
      'createResourceServer: dpop.nonce.lifetime',
      () =>
        createResourceServer({
          issuer: ISSUER,
          audience: AUDIENCE,
          dpop: { nonce: { lifetime: 60 } },
        } as never),
      'dpop.nonce.lifetime',
      'dpop.nonce.lifetimeSeconds',
    ],
    [
      'verifyToken: audiences',
      () => server().verifyToken('a.b.c', { audiences: 'https://api' } as never),
      'audiences',
      'audience',
    ],
    [
      'verifyRequest: scope',
      () =>
        server().verifyRequest(
          new Request('https://api.example.test/', { headers: { authorization: 'Bearer a.b.c' } }),
          { scope: ['orders:read'] } as never,
        ),
      'scope',
      'requiredScopes',
    ],
    [
      'introspectToken: introspectionEndpont',
      () => introspectToken({ ...caller, introspectionEndpont: `${ISSUER}/introspect` } as never),
      'introspectionEndpont',
      'introspectionEndpoint',
    ],
    [
      'revokeToken: tokenHint',
      () =>
        revokeToken({
          ...caller,
          revocationEndpoint: `${ISSUER}/revoke`,
          tokenHint: 'access_token',
        } as never),
      'tokenHint',
      'tokenTypeHint',
    ],
    [
      'createRedisStore: encryption_key',
      () => createRedisStore(redis, { encryption_key: new Uint8Array(32) } as never),
      'encryption_key',
      'encryptionKey',
    ],
    [
      'createRedisStore: keyPrefix',
      () => createRedisStore(redis, { keyPrefix: 'billing:' } as never),
      'keyPrefix',
      'prefix',
    ],
    [
      'createOpenTelemetryObserver: meterProvider',
      () => createOpenTelemetryObserver({ meterProvider: {} } as never),
      'meterProvider',
      'meter',
    ],
    [
      'createMemoryStore: maxEntry',
      () => createMemoryStore({ maxEntry: 10 } as never),
      'maxEntry',
      'maxEntries',
    ],
    [
      'createMemoryReplayStore: maxEntires',
      () => createMemoryReplayStore({ maxEntires: 10 } as never),
      'maxEntires',
      'maxEntries',
    ],
  ];

  it.each(cases)('%s', async (_name, run, option, suggestion) => {
    const error = await failure(run);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_UNKNOWN_OPTION', option, suggestion });
    expect((error as Error).message).toContain(
      `unknown option \`${option}\`; did you mean \`${suggestion}\`?`,
    );
  });

  it('never shows a secret given under a misspelt key', async () => {
    for (const run of [
      () =>
        createAuthClient({ issuer: ISSUER, clientId: 'billing', clientSecert: SECRET } as never),
      () => introspectToken({ ...caller, clientSecret: undefined, clientsecret: SECRET } as never),
      () => createResourceServer({ issuer: ISSUER, jwksSecret: SECRET } as never),
      () => createRedisStore(redis, { encryptionkey: SECRET } as never),
    ]) {
      const error = await failure(run);
      expect(error).toMatchObject({ code: 'ERR_UNKNOWN_OPTION' });
      expect(String(error)).not.toContain('hunter2');
      expect(JSON.stringify(error)).not.toContain('hunter2');
    }
  });

  it.each([
    ['createAuthClient', () => createAuthClient(null as never)],
    ['createAuthClient', () => createAuthClient([] as never)],
    ['createResourceServer', () => createResourceServer('https://idp.example.test' as never)],
    ['getToken', () => client().getToken(null as never)],
    ['verifyToken', () => server().verifyToken('a.b.c', 'https://api' as never)],
    ['introspectToken', () => introspectToken(null as never)],
    ['createRedisStore', () => createRedisStore(redis, null as never)],
    ['createDpopKey', () => createDpopKey(true, null as never)],
    ['createOpenTelemetryObserver', () => createOpenTelemetryObserver(null as never)],
    ['createMemoryStore', () => createMemoryStore(null as never)],
    ['createMemoryReplayStore', () => createMemoryReplayStore([] as never)],
  ])('%s refuses options that are not an object', async (where, run) => {
    const error = await failure(run);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(new RegExp(`^${where}: options must be an object`));
  });
});

describe('an option set to undefined is an option left out', () => {
  it('gives the defaults to the client, getToken and the resource server', async () => {
    const fetch = tokens();
    const auth = createAuthClient({
      issuer: ISSUER,
      clientId: 'billing',
      clientSecret: 'secret',
      tokenEndpoint: `${ISSUER}/token`,
      fetch,
      scope: 'orders:read',
      clientAuth: undefined,
      dpop: undefined,
      retry: undefined,
      circuitBreaker: undefined,
      refreshAhead: { refreshAheadSeconds: undefined },
      cache: undefined,
      allowInsecureHttp: undefined,
    });
    await auth.getToken({ scope: undefined, resource: undefined, forceRefresh: undefined });
    expect(fetch.seen[0]?.form.get('scope')).toBe('orders:read');
    expect(() =>
      createResourceServer({
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: undefined,
        dpop: { required: undefined, nonce: { lifetimeSeconds: undefined } },
        typ: undefined,
      }),
    ).not.toThrow();
    expect(() => createMemoryStore({ maxEntries: undefined, now: undefined })).not.toThrow();
    expect(() => createRedisStore(redis, { prefix: undefined })).not.toThrow();
  });
});

describe('plain-HTTP URLs', () => {
  const publicHttp = 'http://idp.example.com';

  const refusals: [string, () => unknown, string][] = [
    [
      'createAuthClient issuer',
      () => client({ issuer: publicHttp, tokenEndpoint: undefined }),
      'issuer',
    ],
    [
      'createAuthClient tokenEndpoint',
      () => client({ tokenEndpoint: `${publicHttp}/token` }),
      'tokenEndpoint',
    ],
    [
      'createResourceServer issuer',
      () => createResourceServer({ issuer: publicHttp, audience: AUDIENCE }),
      'issuer',
    ],
    [
      'createResourceServer jwksUri',
      () =>
        createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwksUri: `${publicHttp}/jwks` }),
      'jwksUri',
    ],
    ['introspectToken issuer', () => introspectToken({ ...caller, issuer: publicHttp }), 'issuer'],
    [
      'introspectToken introspectionEndpoint',
      () => introspectToken({ ...caller, introspectionEndpoint: `${publicHttp}/introspect` }),
      'introspectionEndpoint',
    ],
    [
      'revokeToken revocationEndpoint',
      () => revokeToken({ ...caller, revocationEndpoint: `${publicHttp}/revoke` }),
      'revocationEndpoint',
    ],
  ];

  it.each(refusals)('refuses an http: %s to a public host', async (_name, run, option) => {
    const error = await failure(run);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INSECURE_HTTP', option });
    const { message } = error as Error;
    expect(message).toContain(`\`${option}\` uses http:`);
    expect(message).toContain('allowInsecureHttp: true');
    expect(message).not.toContain('idp.example.com');
  });

  it.each([
    'http://127.0.0.1:8080',
    'http://localhost:3000',
    'http://[::1]:9000',
    'http://127.9.9.9',
  ])('accepts %s: loopback', async (origin) => {
    expect(() => client({ issuer: origin, tokenEndpoint: `${origin}/token` })).not.toThrow();
    expect(() =>
      createResourceServer({ issuer: origin, audience: AUDIENCE, jwksUri: `${origin}/jwks` }),
    ).not.toThrow();
    const fetch = fakeFetch(() => json({ active: false }));
    await expect(
      introspectToken({ ...caller, fetch, issuer: origin, introspectionEndpoint: `${origin}/i` }),
    ).resolves.toEqual({ active: false });
  });

  it('accepts a public http: URL with allowInsecureHttp: true, and sends to it', async () => {
    const fetch = tokens();
    const auth = client({
      issuer: publicHttp,
      tokenEndpoint: `${publicHttp}/token`,
      fetch,
      allowInsecureHttp: true,
    });
    await auth.getToken();
    expect(fetch.seen[0]?.url).toBe(`${publicHttp}/token`);
    expect(() =>
      createResourceServer({
        issuer: publicHttp,
        audience: AUDIENCE,
        jwksUri: `${publicHttp}/jwks`,
        allowInsecureHttp: true,
      }),
    ).not.toThrow();
    const introspection = fakeFetch(() => json({ active: true, scope: 'a' }));
    await introspectToken({
      ...caller,
      fetch: introspection,
      introspectionEndpoint: `${publicHttp}/introspect`,
      allowInsecureHttp: true,
    });
    expect(introspection.seen[0]?.url).toBe(`${publicHttp}/introspect`);
  });

  it('takes allowInsecureHttp only as a boolean', async () => {
    for (const run of [
      () => client({ allowInsecureHttp: 'true' }),
      () => createResourceServer({ issuer: ISSUER, allowInsecureHttp: 1 } as never),
      () => introspectToken({ ...caller, issuer: ISSUER, allowInsecureHttp: 'yes' } as never),
    ]) {
      const error = await failure(run);
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'allowInsecureHttp' });
      expect(String(error)).toContain('`allowInsecureHttp` must be a boolean');
    }
  });
});

describe('optional options under exactOptionalPropertyTypes', () => {
  let directory: string | undefined;

  afterAll(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('take undefined: a service passes process.env values as they are', async () => {
    directory = await mkdtemp(join(tmpdir(), 's2s-auth-exact-optional-'));
    const fixture = join(
      root,
      'test',
      'runtime',
      'shared',
      'fixtures',
      'exact-optional-options.ts',
    );
    await writeFile(
      join(directory, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: [fixture],
      }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const output = await promisify(execFile)(process.execPath, [tsc, '-p', directory], {
      cwd: root,
    }).then(
      () => '',
      (error: unknown) => {
        const { stdout, stderr } = error as { stdout?: string; stderr?: string };
        return `${stdout ?? ''}${stderr ?? ''}`;
      },
    );
    // The SDK's own sources are compiled too, but what matters is what its users write: the
    // errors, if any, in the fixture. A tsc that did not run at all prints no `error TS` line.
    const inFixture = output
      .split('\n')
      .filter((line) => line.includes('exact-optional-options.ts'));
    expect(inFixture).toEqual([]);
    expect(output.split('\n').filter((line) => line.trim() && !/error TS|^\s/.test(line))).toEqual(
      [],
    );
  }, 60_000);
});
