import { describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServerOptions } from '../../../src/server.js';
import { resolveOptions } from '../../../src/runtime/server/resolve-options.js';
import { AUDIENCE, ISSUER } from './helpers.js';

const base: ResourceServerOptions = {
  issuer: ISSUER,
  audience: AUDIENCE,
  fetch: async () => new Response('{}'),
};

function attempt(options: Record<string, unknown>): () => unknown {
  return () => createResourceServer({ ...base, ...options });
}

describe('createResourceServer options', () => {
  it('accepts the minimal options', () => {
    expect(() => createResourceServer(base)).not.toThrow();
  });

  it('requires an absolute http(s) issuer', () => {
    expect(() => createResourceServer(undefined as unknown as ResourceServerOptions)).toThrow(
      TypeError,
    );
    for (const issuer of [
      undefined,
      '',
      'idp.example.test',
      'ftp://idp.example.test',
      'https://u:p@idp.example.test',
    ]) {
      expect(attempt({ issuer }), String(issuer)).toThrow(TypeError);
    }
  });

  describe('algorithms', () => {
    it.each([
      'none',
      'None',
      'NONE',
      'HS256',
      'HS384',
      'HS512',
      'hs256',
      'ES256K',
      'RSA-OAEP',
      '',
      'toString',
      '__proto__',
    ])('refuses %j with a TypeError', (alg) => {
      expect(attempt({ algorithms: [alg] })).toThrow(TypeError);
      expect(attempt({ algorithms: ['ES256', alg] })).toThrow(TypeError);
      expect(attempt({ dpop: { algorithms: [alg] } })).toThrow(TypeError);
    });

    it('explains why none and HMAC are refused', () => {
      expect(attempt({ algorithms: ['HS256'] })).toThrow(/never accepted/);
    });

    it('refuses an empty list or a list that is not an array', () => {
      expect(attempt({ algorithms: [] })).toThrow(TypeError);
      expect(attempt({ algorithms: 'RS256' })).toThrow(TypeError);
    });

    it('has types that reject symmetric algorithms at compile time', () => {
      // @ts-expect-error HS256 is not an asymmetric algorithm
      expect(() => createResourceServer({ ...base, algorithms: ['HS256'] })).toThrow(TypeError);
      // @ts-expect-error none is not an algorithm
      expect(() => createResourceServer({ ...base, dpop: { algorithms: ['none'] } })).toThrow(
        TypeError,
      );
    });
  });

  it.each([
    ['audience', ''],
    ['audience', []],
    ['audience', [1]],
    ['audience', 42],
    ['clockToleranceSeconds', -1],
    ['clockToleranceSeconds', Number.NaN],
    ['clockToleranceSeconds', '30'],
    ['jwksUri', 'not a url'],
    ['jwksUri', 'file:///etc/passwd'],
    ['requiredScopes', ['a b']],
    ['requiredScopes', [1]],
    ['requiredScopes', 'a "b"'],
    ['typ', true],
    ['typ', ''],
    ['typ', 5],
    ['fetch', 'fetch'],
    ['now', new Date()],
    ['replayStore', {}],
    ['replayStore', { has: () => false }],
    ['dpop', 'yes'],
    ['dpop', { required: 'yes' }],
    ['dpop', { iatWindowSeconds: 0 }],
    ['dpop', { nonce: 'secret' }],
    ['dpop', { nonce: { current: () => 'n' } }],
    ['dpop', { nonce: { lifetimeSeconds: -5 } }],
    ['jwksCacheMaxAgeSeconds', 0],
    ['jwksCooldownSeconds', -1],
    ['jwksMaxStaleSeconds', 10],
    ['timeoutMs', 0],
    ['maxTokenLength', 100.5],
    ['maxTokenLength', 0],
    ['realm', 'a"b'],
    ['realm', ''],
  ])('refuses %s: %j with a TypeError', (name, value) => {
    expect(attempt({ [name]: value })).toThrow(TypeError);
  });

  describe('audience', () => {
    it('is required: leaving it out is a TypeError naming the option and the null opt-out', () => {
      for (const options of [{ issuer: ISSUER }, { issuer: ISSUER, audience: undefined }]) {
        expect(() => createResourceServer(options as unknown as ResourceServerOptions)).toThrow(
          new TypeError(
            'createResourceServer: `audience` is required: the `aud` to accept, or `null` to accept any (which RFC 9068 §4 forbids)',
          ),
        );
      }
    });

    it('takes null as the explicit opt-out', () => {
      expect(attempt({ audience: null })).not.toThrow();
    });

    it.each([[''], [[]], [['ok', '']], [42], [{}]])('refuses %j with a TypeError', (audience) => {
      expect(attempt({ audience })).toThrow(/`audience` must be a non-empty string/);
    });

    it('has a type that requires it', () => {
      // @ts-expect-error audience is required
      const options: ResourceServerOptions = { issuer: ISSUER };
      expect(options.issuer).toBe(ISSUER);
    });
  });

  describe('requiredClaims', () => {
    it.each([['sub'], [[1]], [['']], [{}]])('refuses %j with a TypeError', (requiredClaims) => {
      expect(attempt({ requiredClaims })).toThrow(
        /`requiredClaims` must be an array of claim names/,
      );
    });

    it('takes an empty list, which still requires iss and exp', () => {
      expect(attempt({ requiredClaims: [] })).not.toThrow();
    });
  });

  it('requires jwksMaxStaleSeconds to be at least jwksCacheMaxAgeSeconds', () => {
    expect(attempt({ jwksCacheMaxAgeSeconds: 600, jwksMaxStaleSeconds: 599 })).toThrow(
      /jwksMaxStaleSeconds/,
    );
    expect(attempt({ jwksCacheMaxAgeSeconds: 7200 })).not.toThrow();
  });

  it('accepts every documented shape', () => {
    expect(
      attempt({
        audience: ['https://a.example.test', 'https://b.example.test'],
        clockToleranceSeconds: 0,
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'],
        jwksUri: `${ISSUER}/jwks`,
        requiredScopes: 'orders:read orders:write',
        typ: 'application/at+jwt',
        requiredClaims: ['iss', 'exp', 'aud', 'client_id', 'iat', 'jti'],
        now: () => new Date(),
        replayStore: { checkAndSet: () => true },
        dpop: {
          required: true,
          algorithms: ['ES256'],
          iatWindowSeconds: 30,
          nonce: { lifetimeSeconds: 120 },
        },
        jwksCacheMaxAgeSeconds: 300,
        jwksCooldownSeconds: 0,
        jwksMaxStaleSeconds: 86_400,
        timeoutMs: 2000,
        maxTokenLength: 8192,
        realm: 'orders',
      }),
    ).not.toThrow();
    expect(attempt({ typ: false, dpop: { nonce: false } })).not.toThrow();
  });

  describe('misspelt options', () => {
    it.each([
      ['audiences', 'audience', 'https://api.example.test'],
      ['Audience', 'audience', 'https://api.example.test'],
      ['requiredScope', 'requiredScopes', 'orders:read'],
      ['scope', 'requiredScopes', 'orders:read'],
      ['jwksUrl', 'jwksUri', `${ISSUER}/jwks`],
      ['jwks_uri', 'jwksUri', `${ISSUER}/jwks`],
      ['clockTolerance', 'clockToleranceSeconds', 5],
      ['algorithm', 'algorithms', ['ES256']],
      ['DPoP', 'dpop', { required: true }],
      ['replayStorage', 'replayStore', { checkAndSet: () => true }],
    ])('refuses %s and suggests %s', (name, suggestion, value) => {
      expect(attempt({ [name]: value })).toThrow(TypeError);
      expect(attempt({ [name]: value })).toThrow(
        `createResourceServer: unknown option \`${name}\`; did you mean \`${suggestion}\`?`,
      );
    });

    it.each([
      [{ require: true }, 'dpop.require', 'dpop.required'],
      [{ iatWindow: 30 }, 'dpop.iatWindow', 'dpop.iatWindowSeconds'],
      [{ algorithm: ['ES256'] }, 'dpop.algorithm', 'dpop.algorithms'],
      [{ nonce: { lifetime: 60 } }, 'dpop.nonce.lifetime', 'dpop.nonce.lifetimeSeconds'],
    ])('refuses the DPoP option %j, naming %s', (dpop, option, suggestion) => {
      expect(attempt({ dpop })).toThrow(
        expect.objectContaining({
          name: 'TypeError',
          code: 'ERR_UNKNOWN_OPTION',
          option,
          suggestion,
        }),
      );
    });

    it('leaves a nonce provider of the caller alone, whatever else it has', () => {
      const provider = { current: () => 'n', isValid: () => true, rotate: () => undefined };
      expect(attempt({ dpop: { nonce: provider } })).not.toThrow();
    });

    it.each([
      ['audiences', 'audience'],
      ['scope', 'requiredScopes'],
    ])('refuses %s in the options of one verification', async (name, suggestion) => {
      const server = createResourceServer(base);
      await expect(server.verifyToken('a.b.c', { [name]: 'x' })).rejects.toThrow(
        `verifyToken: unknown option \`${name}\`; did you mean \`${suggestion}\`?`,
      );
      const request = { method: 'GET', url: 'https://api.example.test/', headers: {} };
      await expect(server.verifyRequest(request, { [name]: 'x' })).rejects.toThrow(
        `verifyRequest: unknown option \`${name}\`; did you mean \`${suggestion}\`?`,
      );
    });
  });

  describe('plain HTTP', () => {
    it.each(['issuer', 'jwksUri'])('refuses an http: %s to a host that is not loopback', (name) => {
      expect(attempt({ [name]: 'http://idp.example.com' })).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INSECURE_HTTP', option: name }),
      );
    });

    it.each(['http://127.0.0.1:4000', 'http://localhost:4000', 'http://[::1]:4000'])(
      'accepts the loopback issuer %s',
      (issuer) => {
        expect(attempt({ issuer, jwksUri: `${issuer}/jwks` })).not.toThrow();
        expect(resolveOptions({ issuer, audience: AUDIENCE }).allowInsecureHttp).toBe(false);
      },
    );

    it('accepts a public http: issuer with allowInsecureHttp: true, and passes the choice on', () => {
      const resolved = resolveOptions({
        issuer: 'http://idp.example.com',
        audience: AUDIENCE,
        jwksUri: 'http://idp.example.com/jwks',
        allowInsecureHttp: true,
      });
      expect(resolved).toMatchObject({
        issuer: 'http://idp.example.com',
        jwksUri: 'http://idp.example.com/jwks',
        allowInsecureHttp: true,
      });
    });
  });
});
