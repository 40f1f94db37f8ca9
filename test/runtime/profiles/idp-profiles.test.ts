/**
 * Each IdP profile against that IdP's fixture, through the real resource server: keys generated
 * for the fixture's key set, its discovery document and keys served at the URLs it names, its
 * JWTs signed with those keys. With the profile and the IdP's own issuer, audience and scopes,
 * the IdP's genuine access tokens verify and its ID, logout, refresh, userinfo and other JWTs are
 * refused, each by the check the fixture names.
 */
import { describe, expect, it } from 'vitest';
import {
  createResourceServer,
  TokenError,
  type ResourceServerOptions,
  type TokenErrorReason,
} from '../../../src/server.js';
import type { ProfileName } from '../../../src/runtime/profiles/types.js';
import {
  idpFixtures,
  type JwtFixture,
  type RejectedJwtFixture,
  type RejectionReason,
} from '../../fixtures/idps/index.js';
import { fixtureIdp } from '../../support/fixture-idp.js';

/** The `TokenError` reason of each check a fixture names. */
const reasonOf: Record<RejectionReason, TokenErrorReason> = {
  algorithm: 'algorithm',
  typ: 'type',
  issuer: 'issuer',
  audience: 'audience',
  markers: 'claims',
  client: 'audience',
};

async function refusal(pending: Promise<unknown>): Promise<TokenError> {
  const outcome = await pending.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof TokenError))
    throw new Error(`expected a TokenError, got ${String(outcome)}`);
  return outcome;
}

const names = Object.keys(idpFixtures) as ProfileName[];

describe.each(names)('the %s profile with its IdP', (name) => {
  const fixture = idpFixtures[name];
  const rejected: [string, RejectedJwtFixture][] = [
    ['the ID token', fixture.idToken],
    ...Object.entries(fixture.otherTokens),
  ];

  async function serve(overrides: Partial<ResourceServerOptions> = {}) {
    const idp = await fixtureIdp(fixture);
    const server = createResourceServer({ ...idp.options(), ...overrides });
    return { idp, server };
  }

  it('verifies its genuine access token, with the scopes the profile reads from it', async () => {
    const { idp, server } = await serve();
    const token = await idp.sign(fixture.accessToken);
    const claims = await server.verifyToken(token);
    expect(claims.iss).toBe(fixture.accessToken.payload.iss);
    if (fixture.accessTokenScopes.length > 0) {
      await expect(
        server.verifyToken(token, { requiredScopes: [...fixture.accessTokenScopes] }),
      ).resolves.toMatchObject({ iss: fixture.accessToken.payload.iss });
      const error = await refusal(
        server.verifyToken(token, {
          requiredScopes: [...fixture.accessTokenScopes, 'not-granted'],
        }),
      );
      expect(error).toMatchObject({ reason: 'scope', status: 403 });
      expect(error.detail).toMatch(/^missing not-granted; the token grants /);
    }
  });

  const alsoAccepted = Object.entries(fixture.alsoAccepted);
  if (alsoAccepted.length > 0) {
    it.each(alsoAccepted)('verifies its other genuine access token %s', async (_label, jwt) => {
      const { idp, server } = await serve();
      const claims = await server.verifyToken(await idp.sign(jwt));
      expect(claims.iss).toBe(jwt.payload.iss);
    });
  }

  it.each(rejected)(
    'refuses %s at the check the fixture names, and says why in the error only',
    async (_label, jwt) => {
      const { idp, server } = await serve();
      const error = await refusal(server.verifyToken(await idp.sign(jwt)));
      expect(error).toMatchObject({
        reason: reasonOf[jwt.rejectedBy],
        status: 401,
        error: 'invalid_token',
      });
      // The message says what was expected and found; the challenge keeps to the fixed text.
      expect(error.message.length).toBeGreaterThan(
        `access token rejected (${error.reason}): `.length,
      );
      if (error.detail !== undefined) {
        expect(error.message).toContain(error.detail);
        expect(error.wwwAuthenticate).not.toContain(error.detail);
      }
      expect(error.wwwAuthenticate).toBe(
        `Bearer error="invalid_token", error_description="${error.errorDescription}"`,
      );
    },
  );
});

describe('typ: false with an audience does not let the ID token in, thanks to the profile', () => {
  it.each(['keycloak', 'entra', 'zitadel', 'authentik'] as const)(
    '%s: its ID token, whose aud is this service, is refused by the markers',
    async (name) => {
      const fixture = idpFixtures[name];
      expect(fixture.idToken.rejectedBy).toBe('markers');
      const idp = await fixtureIdp(fixture);
      const options = { ...idp.options(), typ: false as const };
      const token = await idp.sign(fixture.idToken);
      const error = await refusal(createResourceServer(options).verifyToken(token));
      expect(error).toMatchObject({ reason: 'claims', status: 401 });

      // The same server without the profile's markers: the ID token's aud matches, so the
      // audience alone would have let it through.
      const { profile: _profile, ...bare } = options;
      const open = createResourceServer({
        ...bare,
        requiredClaims: ['iss', 'exp'],
        ...(name === 'entra'
          ? { issuerTemplate: { placeholder: '{tenantid}', claim: 'tid' } }
          : {}),
      });
      await expect(open.verifyToken(token)).resolves.toMatchObject({
        aud: fixture.idToken.payload.aud,
      });
    },
  );
});

describe('issuers', () => {
  it('Google: accepts both spellings of its issuer and nothing else', async () => {
    const fixture = idpFixtures.google;
    const idp = await fixtureIdp(fixture);
    const server = createResourceServer(idp.options());
    for (const iss of ['https://accounts.google.com', 'accounts.google.com']) {
      const token = await idp.sign({
        ...fixture.accessToken,
        payload: { ...fixture.accessToken.payload, iss },
      });
      await expect(server.verifyToken(token)).resolves.toMatchObject({ iss });
    }
    const lookalike = await idp.sign({
      ...fixture.accessToken,
      payload: { ...fixture.accessToken.payload, iss: 'https://accounts.google.com/' },
    });
    const error = await refusal(server.verifyToken(lookalike));
    expect(error.reason).toBe('issuer');
    expect(error.detail).toBe(
      'iss is "https://accounts.google.com/"; expected one of "https://accounts.google.com", "accounts.google.com" (the `issuer` option)',
    );
  });

  it('Google: the alias is the profile’s, so without the profile only the configured issuer passes', async () => {
    const fixture = idpFixtures.google;
    const idp = await fixtureIdp(fixture);
    const { profile: _profile, ...bare } = idp.options();
    const server = createResourceServer({
      ...bare,
      typ: 'JWT',
      requiredClaims: ['iss', 'exp'],
    });
    const token = await idp.sign(fixture.alsoAccepted.shortIssuer!);
    expect((await refusal(server.verifyToken(token))).reason).toBe('issuer');
  });

  it('Entra: a key of the consumer tenant does not sign for an organisation tenant', async () => {
    const fixture = idpFixtures.entra;
    const idp = await fixtureIdp(fixture);
    const server = createResourceServer(idp.options());
    const consumerKid = '8IIDH6M8c3cXoeojKme8Jvqsr2Y';
    const token = await idp.sign({
      ...fixture.accessToken,
      header: { ...fixture.accessToken.header, kid: consumerKid },
    });
    const error = await refusal(server.verifyToken(token));
    expect(error.reason).toBe('issuer');
    expect(error.detail).toBe(
      `the key kid "${consumerKid}" is published for issuer "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", not one accepted for a token with iss "${String(fixture.accessToken.payload.iss)}" (the key's own issuer member, checked with \`keyIssuer\`)`,
    );
    // Without the key-issuer rule, the same token verifies: the rule is what refuses it.
    await expect(
      createResourceServer({ ...idp.options(), keyIssuer: false }).verifyToken(token),
    ).resolves.toMatchObject({ tid: fixture.accessToken.payload.tid });
  });

  it('Entra: a tenant off the list is refused, naming the tenant', async () => {
    const fixture = idpFixtures.entra;
    const idp = await fixtureIdp(fixture);
    const server = createResourceServer(idp.options());
    const jwt = fixture.otherTokens.otherTenant as JwtFixture;
    const error = await refusal(server.verifyToken(await idp.sign(jwt)));
    expect(error.reason).toBe('issuer');
    expect(error.detail).toContain(
      `, tid is "${String(jwt.payload.tid)}", not in \`tenants\`; expected one of "https://login.microsoftonline.com/{tenantid}/v2.0", "https://sts.windows.net/{tenantid}/", {tenantid} filled from tid in "${fixture.resourceServer.tenants?.[0]}"`,
    );
  });

  it('Entra: one tenant, with the tenant’s own issuers and keys discovered from the first', async () => {
    const fixture = idpFixtures.entra;
    const tenant = fixture.accessToken.payload.tid as string;
    const v2 = `https://login.microsoftonline.com/${tenant}/v2.0`;
    const idp = await fixtureIdp({
      ...fixture,
      discovery: { ...fixture.discovery, issuer: v2 },
      resourceServer: {
        issuer: [v2, `https://sts.windows.net/${tenant}/`],
        audience: fixture.resourceServer.audience,
      },
    });
    const server = createResourceServer(idp.options());
    for (const jwt of [fixture.accessToken, fixture.alsoAccepted.v1AppOnly!]) {
      await expect(server.verifyToken(await idp.sign(jwt))).resolves.toMatchObject({
        tid: tenant,
      });
    }
    expect(idp.urls[0]).toBe(
      `https://login.microsoftonline.com/.well-known/oauth-authorization-server/${tenant}/v2.0`,
    );
    expect(idp.urls).toContain(`${v2}/.well-known/openid-configuration`);
  });
});
