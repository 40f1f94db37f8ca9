/** requireServiceAuth checks its options when it is called, on every framework. */
import { describe, expect, it } from 'vitest';
import { requireServiceAuth as expressAuth } from '../../../src/express.js';
import { requireServiceAuth as fastifyAuth } from '../../../src/fastify.js';
import { requireServiceAuth as honoAuth } from '../../../src/hono.js';
import { createResourceServer } from '../../../src/index.js';
import {
  resolveServiceAuthOptions,
  type ServiceAuthOptions,
} from '../../../src/runtime/middleware/guard-options.js';

const resourceServer = createResourceServer({
  issuer: 'https://idp.example.test',
  audience: 'https://api.example.test',
});

describe('resolveServiceAuthOptions', () => {
  it('keeps the resource server defaults when neither scopes nor audience is given', () => {
    expect(resolveServiceAuthOptions({ resourceServer })).toEqual({
      resourceServer,
      verifyOptions: undefined,
      publicOrigin: undefined,
      trustProxy: false,
    });
  });

  it('splits, deduplicates and freezes scopes, and lists the audience', () => {
    const resolved = resolveServiceAuthOptions({
      resourceServer,
      scopes: ' orders:read  orders:write orders:read',
      audience: 'https://orders.example.test',
    });
    expect(resolved.verifyOptions).toEqual({
      requiredScopes: ['orders:read', 'orders:write'],
      audience: ['https://orders.example.test'],
    });
    expect(Object.isFrozen(resolved.verifyOptions?.requiredScopes)).toBe(true);
    expect(resolveServiceAuthOptions({ resourceServer, scopes: [] }).verifyOptions).toEqual({
      requiredScopes: [],
    });
  });

  it('normalises publicOrigin to an origin', () => {
    for (const [given, origin] of [
      ['https://API.example.com', 'https://api.example.com'],
      ['https://api.example.com/', 'https://api.example.com'],
      ['https://api.example.com:443', 'https://api.example.com'],
      ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ] as const) {
      expect(resolveServiceAuthOptions({ resourceServer, publicOrigin: given }).publicOrigin).toBe(
        origin,
      );
    }
  });

  it.each([
    ['no options', undefined, /options must be an object/],
    ['no resource server', {}, /`resourceServer` must be a resource server/],
    ['a resource server without verifyRequest', { resourceServer: {} }, /`resourceServer`/],
    ['scopes of the wrong type', { resourceServer, scopes: 42 }, /`scopes`/],
    ['a scope with a quote', { resourceServer, scopes: ['orders"read'] }, /`scopes`/],
    ['an empty audience list', { resourceServer, audience: [] }, /`audience`/],
    ['an empty audience', { resourceServer, audience: '' }, /`audience`/],
    [
      'a publicOrigin with a path',
      { resourceServer, publicOrigin: 'https://a.example/api' },
      /`publicOrigin`/,
    ],
    [
      'a publicOrigin with a query',
      { resourceServer, publicOrigin: 'https://a.example?x' },
      /`publicOrigin`/,
    ],
    [
      'a publicOrigin with credentials',
      { resourceServer, publicOrigin: 'https://u:p@a.example' },
      /`publicOrigin`/,
    ],
    [
      'a publicOrigin that is not http(s)',
      { resourceServer, publicOrigin: 'ftp://a.example' },
      /`publicOrigin`/,
    ],
    [
      'a relative publicOrigin',
      { resourceServer, publicOrigin: 'api.example.com' },
      /`publicOrigin`/,
    ],
    ['trustProxy that is not a boolean', { resourceServer, trustProxy: 'yes' }, /`trustProxy`/],
  ])('refuses %s with a TypeError naming the option', (_name, options, message) => {
    expect(() => resolveServiceAuthOptions(options)).toThrow(TypeError);
    expect(() => resolveServiceAuthOptions(options)).toThrow(message);
  });
});

describe('misspelt options', () => {
  it.each([
    ['scope', 'requiredScopes', 'orders:read'],
    ['requiredScope', 'requiredScopes', ['orders:read']],
    ['audiences', 'audience', 'https://orders.example.test'],
    ['trustProxies', 'trustProxy', true],
    ['public_origin', 'publicOrigin', 'https://api.example.com'],
    ['resource_server', 'resourceServer', resourceServer],
  ])('refuses %s and suggests %s', (name, suggestion, value) => {
    const options = { resourceServer, [name]: value };
    expect(() => resolveServiceAuthOptions(options)).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_UNKNOWN_OPTION',
        option: name,
        suggestion,
        message: `requireServiceAuth: unknown option \`${name}\`; did you mean \`${suggestion}\`?`,
      }),
    );
  });

  it('lists the options when the key is like none of them', () => {
    expect(() => resolveServiceAuthOptions({ resourceServer, colour: 'blue' })).toThrow(
      'requireServiceAuth: unknown option `colour`; the options are resourceServer, requiredScopes, scopes, audience, publicOrigin, trustProxy',
    );
  });

  it('takes an option set to undefined as left out', () => {
    expect(
      resolveServiceAuthOptions({
        resourceServer,
        scopes: undefined,
        audience: undefined,
        publicOrigin: undefined,
        trustProxy: undefined,
      }),
    ).toEqual(resolveServiceAuthOptions({ resourceServer }));
  });
});

describe('requireServiceAuth', () => {
  it.each([
    ['hono', honoAuth],
    ['express', expressAuth],
    ['fastify', fastifyAuth],
  ] as const)('%s: refuses a misspelt option when it is called', (_name, make) => {
    const typo = { resourceServer, scope: 'orders:write' } as ServiceAuthOptions;
    expect(() => make(typo)).toThrow(/unknown option `scope`; did you mean `requiredScopes`\?/);
  });

  it.each([
    ['hono', honoAuth],
    ['express', expressAuth],
    ['fastify', fastifyAuth],
  ] as const)(
    '%s: throws the TypeError when it is called, not on the first request',
    (_name, make) => {
      const bad = { resourceServer, publicOrigin: 'https://a.example/api' } as ServiceAuthOptions;
      expect(() => make(bad)).toThrow(TypeError);
      expect(typeof make({ resourceServer })).toBe('function');
    },
  );
});
