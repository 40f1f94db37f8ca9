/**
 * The token-policy and issuer options of `createResourceServer`, end to end through
 * `verifyToken`: `profile`, `typ` lists, `requiredClaims` with alternatives, `claimValues`,
 * `absentClaims`, `scopeClaims`, `clientIds`, issuer lists and templates, `keyIssuer`, and the
 * other names options are also given under.
 */
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { createResourceServer, TokenError } from '../../../src/server.js';
import {
  claimsOf,
  AUDIENCE,
  ISSUER,
  JWKS_URI,
  accessToken,
  fakeIdp,
  makeKey,
  request,
  setup,
} from './helpers.js';

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TokenError);
  return error as TokenError;
}

function attempt(options: Record<string, unknown>): () => unknown {
  return () =>
    createResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      fetch: async () => new Response('{}'),
      ...options,
    });
}

describe('profile', () => {
  it('refuses a name that is not a profile, listing the ones there are', () => {
    expect(attempt({ profile: 'kecloak' })).toThrow(
      "createResourceServer: `profile` must be one of 'keycloak', 'entra', 'auth0', 'okta', 'cognito', 'google', 'pingone', 'duende', 'zitadel', 'authentik'",
    );
  });

  it('asks for clientIds where the profile needs them', () => {
    expect(attempt({ profile: 'google' })).toThrow(/this profile needs `clientIds`/);
    expect(attempt({ profile: 'google', clientIds: ['1045'] })).not.toThrow();
  });

  it('lets an option given explicitly win over the profile', async () => {
    const { server, key, now } = await setup({
      profile: 'keycloak',
      typ: 'at+jwt',
      claimValues: { typ: 'Bearer' },
    });
    const claims = { typ: 'Bearer', azp: 'billing' };
    const signed = await accessToken(key, now(), claims);
    await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    const dpop = await accessToken(key, now(), { ...claims, typ: 'DPoP' });
    expect(await rejection(server.verifyToken(dpop))).toMatchObject({
      reason: 'claims',
      claim: 'typ',
      detail: 'claim typ is "DPoP"; expected "Bearer" (the `claimValues` option)',
    });
  });
});

describe('typ', () => {
  it('takes a list of accepted types', async () => {
    const { server, key, now } = await setup({ typ: ['JWT', 'at+jwt'] });
    for (const typ of ['JWT', 'at+jwt', 'application/at+jwt']) {
      const signed = await accessToken(key, now(), {}, { typ });
      await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    }
    const logout = await accessToken(key, now(), {}, { typ: 'logout+jwt' });
    expect((await rejection(server.verifyToken(logout))).detail).toBe(
      'typ "logout+jwt"; expected jwt or at+jwt (the `typ` option)',
    );
  });

  it.each(['logout+jwt', 'dpop+jwt', 'token-introspection+jwt', 'secevent+jwt'])(
    'with typ: false still refuses a %s',
    async (typ) => {
      const { server, key, now } = await setup({ typ: false });
      const token = await accessToken(key, now(), {}, { typ });
      expect((await rejection(server.verifyToken(token))).reason).toBe('type');
    },
  );

  it('with typ: false accepts no typ, JWT and at+jwt', async () => {
    const { server, key, now } = await setup({ typ: false });
    for (const typ of [undefined, 'JWT', 'at+jwt']) {
      const signed = await accessToken(key, now(), {}, { typ });
      await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    }
  });
});

describe('requiredClaims', () => {
  it('requires the RFC 9068 claims of a token typed at+jwt even when typ: false lets others in', async () => {
    const { server, key, now } = await setup({ typ: false });
    const typed = await accessToken(key, now(), { sub: undefined });
    expect(await rejection(server.verifyToken(typed))).toMatchObject({
      reason: 'claims',
      claim: 'sub',
    });
    const untyped = await accessToken(key, now(), { sub: undefined }, { typ: 'JWT' });
    await expect(server.verifyToken(untyped)).resolves.toEqual(claimsOf(untyped));
  });

  it('takes alternatives: at least one claim of an inner list', async () => {
    const { server, key, now } = await setup({
      requiredClaims: ['iss', 'exp', ['azp', 'appid']],
    });
    const signed = await accessToken(key, now(), { appid: 'billing' });
    await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    expect(await rejection(server.verifyToken(await accessToken(key, now())))).toMatchObject({
      reason: 'claims',
      claim: 'azp|appid',
      detail: 'no azp or appid claim; required: iss, exp, azp|appid (the `requiredClaims` option)',
    });
  });
});

describe('claimValues, absentClaims and clientIds', () => {
  it('refuses a token without the required value, with an ID-token marker, or from another client', async () => {
    const { server, key, now } = await setup({
      claimValues: { token_use: 'access' },
      absentClaims: ['nonce'],
      clientIds: ['billing'],
      clientIdClaims: ['client_id'],
    });
    const good = { token_use: 'access', client_id: 'billing' };
    const signed = await accessToken(key, now(), good);
    await expect(server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
    const cases: [Record<string, unknown>, string, string | undefined][] = [
      [{ ...good, token_use: 'id' }, 'claims', 'token_use'],
      [{ ...good, nonce: 'n-0S6' }, 'claims', 'nonce'],
      [{ ...good, client_id: 'intruder' }, 'audience', undefined],
    ];
    for (const [claims, reason, claim] of cases) {
      const error = await rejection(server.verifyToken(await accessToken(key, now(), claims)));
      expect(error.reason).toBe(reason);
      expect(error.claim).toBe(claim);
    }
  });
});

describe('scopes', () => {
  it('reads scope as a JSON array of strings (Duende)', async () => {
    const { server, key, now } = await setup({ requiredScopes: ['orders:read'] });
    const token = await accessToken(key, now(), { scope: ['orders:read', 'orders:write'] });
    await expect(server.verifyToken(token)).resolves.toMatchObject({
      scope: ['orders:read', 'orders:write'],
    });
  });

  it('reads the claims scopeClaims names, and only those', async () => {
    const { server, key, now } = await setup({
      scopeClaims: ['scp'],
      requiredScopes: 'orders:read',
    });
    const granted = await accessToken(key, now(), { scope: undefined, scp: ['orders:read'] });
    await expect(server.verifyToken(granted)).resolves.toEqual(claimsOf(granted));
    const inScope = await accessToken(key, now(), { scope: 'orders:read' });
    expect(await rejection(server.verifyToken(inScope))).toMatchObject({
      reason: 'scope',
      detail:
        'missing orders:read; the token grants none, read from scp (the `scopeClaims` option)',
    });
  });

  it('takes scopes for requiredScopes on the server and on each call, and refuses both', async () => {
    const { server, key, now } = await setup({ scopes: 'orders:admin' });
    const token = await accessToken(key, now());
    expect((await rejection(server.verifyToken(token))).reason).toBe('scope');
    await expect(server.verifyToken(token, { scopes: 'orders:read' })).resolves.toEqual(
      claimsOf(token),
    );
    await expect(
      server.verifyRequest(request({ authorization: `Bearer ${token}` }), {
        scopes: 'orders:read',
      }),
    ).resolves.toEqual(claimsOf(token));
    await expect(server.verifyToken(token, { scopes: 'a', requiredScopes: 'b' })).rejects.toThrow(
      'verifyToken: `scopes` is another name for `requiredScopes`',
    );
    expect(attempt({ scopes: 'a', requiredScopes: 'b' })).toThrow(
      'createResourceServer: `scopes` is another name for `requiredScopes`; give one of them, not both',
    );
    await expect(server.verifyToken(token, { scopes: 42 } as never)).rejects.toThrow(
      'verifyToken: `scopes` must be a space-separated string',
    );
  });
});

describe('the seed products’ names', () => {
  it('takes clockToleranceSec for clockToleranceSeconds and fetchImpl for fetch', async () => {
    const key = await makeKey('ES256');
    const idp = fakeIdp([key.jwk]);
    const server = createResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: JWKS_URI,
      fetchImpl: idp.fetch,
      clockToleranceSec: 120,
    });
    const nowSeconds = Math.floor(Date.now() / 1000);
    const token = await accessToken(key, nowSeconds, { exp: nowSeconds - 60 });
    await expect(server.verifyToken(token)).resolves.toEqual(claimsOf(token));
    expect(idp.jwksRequests()).toBe(1);
    expect(attempt({ clockToleranceSec: 1, clockToleranceSeconds: 2 })).toThrow(
      '`clockToleranceSec` is another name for `clockToleranceSeconds`',
    );
  });

  it('suggests the option itself, not its other name, for a misspelling', () => {
    expect(attempt({ clockTolerance: 5 })).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_OPTION', suggestion: 'clockToleranceSeconds' }),
    );
  });
});

describe('issuer', () => {
  it('takes a list: discovers from the first and accepts tokens of each, and no other', async () => {
    const { server, key, now, idp } = await setup({
      issuer: [ISSUER, 'https://idp-v1.example.test/'],
      jwksUri: undefined,
    });
    for (const iss of [ISSUER, 'https://idp-v1.example.test/']) {
      await expect(
        server.verifyToken(await accessToken(key, now(), { iss })),
      ).resolves.toMatchObject({ iss });
    }
    expect(idp.urls[0]).toBe(`${ISSUER}/.well-known/oauth-authorization-server`);
    const other = await accessToken(key, now(), { iss: 'https://idp-v1.example.test' });
    expect((await rejection(server.verifyToken(other))).detail).toBe(
      `iss is "https://idp-v1.example.test"; expected one of "${ISSUER}", "https://idp-v1.example.test/" (the \`issuer\` option)`,
    );
  });

  it.each([
    [[], /`issuer` must be an issuer URL or a non-empty array of them/],
    [[ISSUER, 'http://idp.example.com'], /`issuer\[1\]` uses http:/],
    [[ISSUER, 42], /`issuer\[1\]` must be a non-empty string/],
  ])('refuses the list %j', (issuer, message) => {
    expect(attempt({ issuer })).toThrow(message);
  });

  describe('a template', () => {
    const template = 'https://login.example.test/{tenant}/v2';
    const issuerTemplate = { placeholder: '{tenant}', claim: 'tid' };

    it('fills the placeholder from the claim, which must name a tenant on the list', async () => {
      const { server, key, now } = await setup({
        issuer: template,
        issuerTemplate,
        tenants: ['t-1'],
      });
      const good = await accessToken(key, now(), {
        iss: 'https://login.example.test/t-1/v2',
        tid: 't-1',
      });
      await expect(server.verifyToken(good)).resolves.toMatchObject({ tid: 't-1' });
      for (const claims of [
        { iss: 'https://login.example.test/t-2/v2', tid: 't-2' },
        { iss: 'https://login.example.test/t-1/v2', tid: 't-2' },
        { iss: 'https://login.example.test/t-1/v2' },
        { iss: template, tid: 't-1' },
      ]) {
        const error = await rejection(server.verifyToken(await accessToken(key, now(), claims)));
        expect(error.reason, JSON.stringify(claims)).toBe('issuer');
      }
    });

    it('needs tenants, and tenants need a template', () => {
      expect(attempt({ issuer: template, issuerTemplate, jwksUri: JWKS_URI })).toThrow(
        'createResourceServer: the issuer template "https://login.example.test/{tenant}/v2" needs `tenants`, the tid values whose tokens this server accepts',
      );
      expect(attempt({ tenants: ['t-1'] })).toThrow(/`tenants` applies only to an issuer template/);
      expect(
        attempt({ issuer: template, issuerTemplate, tenants: ['t/1'], jwksUri: JWKS_URI }),
      ).toThrow('`tenants` must be a non-empty array of tenant ids');
    });

    it('needs jwksUri unless an issuer without a placeholder is there to discover from', () => {
      expect(attempt({ issuer: template, issuerTemplate, tenants: ['t-1'] })).toThrow(
        /an issuer template names no discovery document: give `jwksUri`/,
      );
      expect(
        attempt({ issuer: [template, ISSUER], issuerTemplate, tenants: ['t-1'] }),
      ).not.toThrow();
    });

    it('is a plain issuer without issuerTemplate or a profile that has one', async () => {
      const { server, key, now } = await setup({ issuer: [ISSUER, template] });
      const filled = await accessToken(key, now(), {
        iss: 'https://login.example.test/t-1/v2',
        tid: 't-1',
      });
      expect((await rejection(server.verifyToken(filled))).reason).toBe('issuer');
    });
  });

  it('with keyIssuer, refuses a key published for another issuer', async () => {
    const key = await makeKey('ES256');
    const published = [{ ...key.jwk, issuer: 'https://someone-else.example.test' } as JWK];
    const strict = await setup({ keyIssuer: true }, { key, published });
    const token = await accessToken(key, strict.now());
    expect((await rejection(strict.server.verifyToken(token))).reason).toBe('issuer');
    const lax = await setup({}, { key, published });
    await expect(lax.server.verifyToken(token)).resolves.toEqual(claimsOf(token));
    const own = await setup(
      { keyIssuer: true },
      { key, published: [{ ...key.jwk, issuer: ISSUER } as JWK] },
    );
    await expect(own.server.verifyToken(token)).resolves.toEqual(claimsOf(token));
  });
});

describe('scopeClaims with a JSON Pointer', () => {
  it('checks required scopes against Keycloak realm roles in a nested claim', async () => {
    const { createTestIssuer } = await import('../../../src/runtime/testing/test-issuer.js');
    const { createResourceServer: create, TokenError: Refused } =
      await import('../../../src/server.js');
    const idp = await createTestIssuer({ audience: 'https://orders.test' });
    const server = create({
      issuer: idp.issuer,
      audience: 'https://orders.test',
      fetch: idp.fetch,
      scopeClaims: ['/realm_access/roles'],
    });
    const token = await idp.mintAccessToken({
      realm_access: { roles: ['orders-reader'] },
      scope: 'profile',
    });
    await expect(
      server.verifyToken(token, { requiredScopes: ['orders-reader'] }),
    ).resolves.toMatchObject({
      realm_access: { roles: ['orders-reader'] },
    });
    const error = await server
      .verifyToken(token, { requiredScopes: ['profile'] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Refused);
    expect(error).toMatchObject({ reason: 'scope', status: 403 });
  });
});
