/**
 * The client half of the IdP profiles, against token endpoints modelled on each IdP from
 * test/fixtures/idps: what each one's token request must look like (Auth0's `audience`, Entra's
 * `/.default` scope and string numbers, Okta's DPoP algorithms and assertion audience,
 * authentik's unencoded Basic credential), and that the profile makes the client send it. Each
 * fake answers as its IdP does, with the fixture's own success and error bodies, so a request
 * in the wrong shape fails here the way it fails there.
 */
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  createAuthClient,
  OAuthError,
  type AuthClientOptions,
  type ProfileName,
} from '../../../src/client.js';
import { idpFixtures, type IdpFixture } from '../../fixtures/idps/index.js';
import { verifyDpopProof } from '../../support/dpop.js';
import { fakeFetch, json, manualClock, type SeenRequest } from '../fake-fetch.js';

type Answer = IdpFixture['tokenEndpoint']['success'];

const respond = (answer: Answer, body: Record<string, unknown> = {}) =>
  json({ ...(answer.body as Record<string, unknown>), ...body }, answer.status, {
    ...answer.headers,
  });

/** The fixture's error answer whose description says `text`. */
function errorAnswer(fixture: IdpFixture, text: string): Answer {
  const found = fixture.tokenEndpoint.errors.find((answer) => answer.description.includes(text));
  if (!found) throw new Error(`no error answer of ${fixture.profile} about "${text}"`);
  return found;
}

/**
 * A fake IdP: the RFC 8414 URL answers 404 (as most of these IdPs do for the path-inserted
 * form), the OpenID configuration is `discovery`, and the token endpoint answers with `token`.
 */
function fakeIdp(
  discovery: Readonly<Record<string, unknown>>,
  token: (request: SeenRequest) => Response | Promise<Response>,
) {
  return fakeFetch(async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname.includes('/.well-known/oauth-authorization-server')) return json({}, 404);
    if (pathname.endsWith('/.well-known/openid-configuration')) return json(discovery);
    if (request.url === discovery.token_endpoint) return token(request);
    return json({ error: 'not_found' }, 404);
  });
}

const tokenRequests = (fetch: ReturnType<typeof fakeFetch>) =>
  fetch.seen.filter((request) => request.method === 'POST');

function basicPair(request: SeenRequest): string | undefined {
  const header = request.headers.get('authorization');
  if (!header?.startsWith('Basic ')) return undefined;
  return new TextDecoder().decode(Uint8Array.from(atob(header.slice(6)), (c) => c.charCodeAt(0)));
}

function formDecoded(pair: string): string {
  const colon = pair.indexOf(':');
  const decode = (part: string) => new URLSearchParams(`v=${part}`).get('v');
  return `${decode(pair.slice(0, colon))}:${decode(pair.slice(colon + 1))}`;
}

const secret = 'pa55+word/with=chars %';
const profileNames = Object.keys(idpFixtures) as (keyof typeof idpFixtures)[];

describe('profile on createAuthClient', () => {
  it.each(profileNames)('makes a %s client from an id and a secret alone', (profile) => {
    const { client } = idpFixtures[profile];
    expect(() =>
      createAuthClient({
        profile,
        issuer: client.issuer,
        clientId: client.clientId,
        clientSecret: secret,
      }),
    ).not.toThrow();
  });

  it.each(profileNames)('makes a %s client with private_key_jwt', async (profile) => {
    const { client } = idpFixtures[profile];
    const { privateKey } = await generateKeyPair('ES256');
    expect(() =>
      createAuthClient({
        profile,
        issuer: client.issuer,
        clientId: client.clientId,
        clientAuth: 'private_key_jwt',
        privateKey,
      }),
    ).not.toThrow();
  });

  it('refuses a profile it does not know, listing the profiles and naming the closest', () => {
    let error: unknown;
    try {
      createAuthClient({
        profile: 'okat' as ProfileName,
        issuer: 'https://idp.example.test',
        clientId: 'svc',
        clientSecret: secret,
      });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'profile' });
    expect((error as Error).message).toContain('got "okat"');
    expect((error as Error).message).toContain("did you mean 'okta'?");
    expect((error as Error).message).toContain('keycloak, entra, auth0, okta');
  });

  it('refuses a profile that is not a name, such as one of the table’s inherited keys', () => {
    for (const profile of ['toString', '__proto__', 42]) {
      expect(() =>
        createAuthClient({
          profile: profile as ProfileName,
          issuer: 'https://idp.example.test',
          clientId: 'svc',
          clientSecret: secret,
        }),
      ).toThrow(expect.objectContaining({ option: 'profile' }));
    }
  });
});

describe('Auth0: the API identifier goes in `audience`', () => {
  const fixture = idpFixtures.auth0;
  const api = fixture.client.tokenParameters!.audience!;
  const { clientId, issuer, scope } = fixture.client;

  /** Auth0's token endpoint: credentials in the body by default, and an `audience` it knows. */
  const auth0 = () =>
    fakeIdp(fixture.discovery, (request) => {
      const { form } = request;
      if (form.get('client_id') !== clientId || form.get('client_secret') !== secret) {
        return respond(errorAnswer(fixture, 'wrong secret'));
      }
      if (!form.has('audience')) return respond(errorAnswer(fixture, 'no audience parameter'));
      if (form.get('audience') !== api) return respond(errorAnswer(fixture, 'names no API'));
      return respond(fixture.tokenEndpoint.success);
    });

  const options = (extra: Partial<AuthClientOptions> = {}): AuthClientOptions => ({
    profile: 'auth0',
    issuer,
    clientId,
    clientSecret: secret,
    scope,
    ...extra,
  });

  it('sends the resource as audience, in a client_secret_post request, and gets the token', async () => {
    const fetch = auth0();
    const token = await createAuthClient({ ...options({ resource: api }), fetch }).getToken();
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 86400, scope: 'read:orders' });
    const [request] = tokenRequests(fetch);
    expect(request?.form.get('audience')).toBe(api);
    expect(request?.form.has('resource')).toBe(false);
    expect(request?.headers.has('authorization')).toBe(false);
  });

  it('sends tokenParameters.audience as it is, the way the Auth0 guide configures it', async () => {
    const fetch = auth0();
    const auth = createAuthClient({
      ...options({ tokenParameters: fixture.client.tokenParameters }),
      fetch,
    });
    expect((await auth.getToken()).access_token).toBe('<jwt>');
    expect(tokenRequests(fetch)[0]?.form.get('audience')).toBe(api);
  });

  it('is refused by Auth0 without the profile: `resource` is no parameter Auth0 reads', async () => {
    const fetch = auth0();
    const error = await createAuthClient({
      ...options({ resource: api, clientAuth: 'client_secret_post' }),
      profile: undefined,
      fetch,
      retry: false,
    })
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 403, code: 'access_denied' });
    expect((error as OAuthError).description).toContain('No audience parameter was provided');
  });

  it('caches a token per audience', async () => {
    const fetch = fakeIdp(fixture.discovery, (request) =>
      respond(fixture.tokenEndpoint.success, {
        access_token: `for ${request.form.get('audience')}`,
      }),
    );
    const auth = createAuthClient({ ...options({ resource: api }), fetch });
    const other = 'https://ledger.example.com';
    expect(await auth.getAccessToken()).toBe(`for ${api}`);
    expect(await auth.getAccessToken({ resource: other })).toBe(`for ${other}`);
    expect(await auth.getAccessToken({ resource: api })).toBe(`for ${api}`);
    expect(tokenRequests(fetch)).toHaveLength(2);
  });

  it('refuses a resource and tokenParameters.audience together: two values for one parameter', async () => {
    expect(() =>
      createAuthClient(options({ resource: api, tokenParameters: { audience: api } })),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'tokenParameters' }));
    const fetch = auth0();
    const auth = createAuthClient({ ...options({ tokenParameters: { audience: api } }), fetch });
    const error = await auth.getToken({ resource: api }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ option: 'tokenParameters' });
    expect(fetch.seen).toHaveLength(0);
  });

  it('refuses two resources: Auth0 takes one audience per token', () => {
    expect(() =>
      createAuthClient(options({ resource: [api, 'https://ledger.example.com'] })),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'resource' }));
  });

  it("sends `resource` again when resourceAs: 'parameter' is given: the option wins", async () => {
    const fetch = fakeIdp(fixture.discovery, () => respond(fixture.tokenEndpoint.success));
    await createAuthClient({
      ...options({ resource: api, resourceAs: 'parameter' }),
      fetch,
    }).getToken();
    const [request] = tokenRequests(fetch);
    expect(request?.form.getAll('resource')).toEqual([api]);
    expect(request?.form.has('audience')).toBe(false);
  });

  it('uses Basic when clientAuth says so: an explicit option wins over the profile', async () => {
    const fetch = fakeIdp(fixture.discovery, () => respond(fixture.tokenEndpoint.success));
    await createAuthClient({
      ...options({ resource: api, clientAuth: 'client_secret_basic' }),
      fetch,
    }).getToken();
    const [request] = tokenRequests(fetch);
    expect(request?.form.has('client_secret')).toBe(false);
    expect(formDecoded(basicPair(request!) ?? '')).toBe(`${clientId}:${secret}`);
  });

  it("signs private_key_jwt assertions for the tenant URL, Auth0's issuer", async () => {
    const fetch = fakeIdp(fixture.discovery, () => respond(fixture.tokenEndpoint.success));
    const { privateKey } = await generateKeyPair('RS256');
    await createAuthClient({
      ...options({ resource: api, clientAuth: 'private_key_jwt', privateKey }),
      clientSecret: undefined,
      fetch,
    }).getToken();
    const assertion = tokenRequests(fetch)[0]?.form.get('client_assertion') ?? '';
    expect(decodeJwt(assertion).aud).toBe(issuer);
  });
});

describe('Entra ID v2.0: the resource goes in scope as <resource>/.default', () => {
  const fixture = idpFixtures.entra;
  const { clientId, issuer } = fixture.client;
  const resource = fixture.client.resource!;
  const tenant = /login\.microsoftonline\.com\/([^/]+)\/v2\.0/.exec(issuer)![1]!;
  /** The tenant's own v2.0 discovery document, as Entra serves it for a tenant id. */
  const discovery = JSON.parse(
    JSON.stringify(fixture.discovery)
      .replaceAll('{tenantid}', tenant)
      .replaceAll('/organizations/', `/${tenant}/`),
  ) as Record<string, unknown>;

  /** Entra's v2.0 token endpoint: no `resource`, only `/.default` scopes, secret in the body. */
  const entra = () =>
    fakeIdp(discovery, (request) => {
      const { form } = request;
      if (form.has('resource'))
        return respond(errorAnswer(fixture, 'refuses the RFC 8707 resource'));
      if (!(form.get('scope') ?? '').endsWith('/.default')) {
        return respond(errorAnswer(fixture, 'without /.default'));
      }
      if (form.get('client_id') !== clientId || form.get('client_secret') !== secret) {
        return respond(errorAnswer(fixture, 'wrong secret'));
      }
      return respond(fixture.tokenEndpoint.success);
    });

  const options = (extra: Partial<AuthClientOptions> = {}): AuthClientOptions => ({
    profile: 'entra',
    issuer,
    clientId,
    clientSecret: secret,
    resource,
    ...extra,
  });

  it('asks for scope=api://orders/.default with the secret in the body, and gets the token', async () => {
    const fetch = entra();
    const token = await createAuthClient({ ...options(), fetch }).getToken();
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    const [request] = tokenRequests(fetch);
    expect(request?.url).toBe(`https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`);
    expect(request?.form.get('scope')).toBe('api://orders/.default');
    expect(request?.form.has('resource')).toBe(false);
  });

  it('is refused with AADSTS901002 without the profile, which sends `resource`', async () => {
    const fetch = entra();
    const error = await createAuthClient({
      ...options({ clientAuth: 'client_secret_post' }),
      profile: undefined,
      fetch,
      retry: false,
    })
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request' });
    expect((error as OAuthError).description).toContain('AADSTS901002');
  });

  it('writes no second slash for a resource that ends with one', async () => {
    const fetch = entra();
    await createAuthClient({
      ...options({ resource: 'https://graph.microsoft.com/' }),
      fetch,
    }).getToken();
    expect(tokenRequests(fetch)[0]?.form.get('scope')).toBe('https://graph.microsoft.com/.default');
  });

  it('caches a token per resource, a call naming the default resource sharing its slot', async () => {
    const fetch = entra();
    const auth = createAuthClient({ ...options(), fetch });
    await auth.getToken();
    await auth.getToken({ resource: resource });
    await auth.getToken({ resource: 'https://graph.microsoft.com' });
    await auth.getToken({ resource: ['https://graph.microsoft.com'] });
    const scopes = tokenRequests(fetch).map((request) => request.form.get('scope'));
    expect(scopes).toEqual(['api://orders/.default', 'https://graph.microsoft.com/.default']);
  });

  it('refuses scopes beside the resource, at creation and per call, and sends nothing', async () => {
    expect(() => createAuthClient(options({ scope: 'Orders.Read' }))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'scope' }),
    );
    const fetch = entra();
    const auth = createAuthClient({ ...options(), fetch });
    const error = await auth.getToken({ scope: 'Orders.Read' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ option: 'scope' });
    expect((error as Error).message).toContain('<resource>/.default');
    expect(fetch.seen).toHaveLength(0);
  });

  it('refuses two resources in one token', async () => {
    const fetch = entra();
    const auth = createAuthClient({ ...options(), fetch });
    const error = await auth
      .getToken({ resource: [resource, 'https://graph.microsoft.com'] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TypeError', option: 'resource' });
    expect(fetch.seen).toHaveLength(0);
  });

  it('sends scopes as they are when no resource is given: api://orders/.default works as a scope', async () => {
    const fetch = entra();
    await createAuthClient({
      ...options({ resource: undefined, scope: 'api://orders/.default' }),
      fetch,
    }).getToken();
    expect(tokenRequests(fetch)[0]?.form.get('scope')).toBe('api://orders/.default');
  });

  it('refuses a resource that cannot be a scope token once mapped', () => {
    expect(() => createAuthClient(options({ resource: 'https://x.example/"quoted' }))).toThrow(
      TypeError,
    );
  });

  it('signs private_key_jwt assertions for the token endpoint', async () => {
    const fetch = entra();
    const { privateKey } = await generateKeyPair('RS256');
    await createAuthClient({
      ...options({ clientAuth: 'private_key_jwt', privateKey }),
      clientSecret: undefined,
      fetch: fakeIdp(discovery, (request) => {
        fetch.seen.push(request);
        return respond(fixture.tokenEndpoint.success);
      }),
    }).getToken();
    const request = fetch.seen.at(-1);
    expect(decodeJwt(request?.form.get('client_assertion') ?? '').aud).toBe(
      discovery.token_endpoint,
    );
    expect(request?.form.get('scope')).toBe('api://orders/.default');
  });
});

describe('Entra ID v1.0: resource as the parameter, numbers as strings', () => {
  const fixture = idpFixtures.entra;
  const v1 = fixture.tokenEndpoint.otherSuccesses![0]!;
  const tenant = 'c0ffee00-1d2e-4f3a-8b9c-0d1e2f3a4b5c';
  const tokenEndpoint = `https://login.microsoftonline.com/${tenant}/oauth2/token`;

  it("reads the v1.0 answer's expires_in \"3599\" as 3599 with resourceAs: 'parameter'", async () => {
    const clock = manualClock();
    const fetch = fakeFetch((request) =>
      request.form.get('resource') === 'api://orders'
        ? respond(v1)
        : json({ error: 'invalid_resource' }, 400),
    );
    const token = await createAuthClient({
      profile: 'entra',
      resourceAs: 'parameter',
      tokenEndpoint,
      clientId: fixture.client.clientId,
      clientSecret: secret,
      resource: 'api://orders',
      fetch,
      now: clock.now,
    }).getToken();
    expect(token.expires_in).toBe(3599);
    expect(token.expires_at).toBe(Math.floor(clock.now().getTime() / 1000) + 3599);
    expect(fetch.seen[0]?.form.has('scope')).toBe(false);
  });
});

describe('Okta: DPoP keys of an algorithm Okta lists, assertions for the token endpoint', () => {
  const fixture = idpFixtures.okta;
  const { clientId, issuer, scope } = fixture.client;
  const listed = fixture.discovery.dpop_signing_alg_values_supported as string[];

  /**
   * Okta's token endpoint with DPoP required: Basic credentials, a scope, a proof signed with a
   * listed algorithm, and the nonce it hands out with its first answer.
   */
  const okta = () => {
    const nonce = errorAnswer(fixture, 'DPoP on').headers?.['DPoP-Nonce'];
    return fakeIdp(fixture.discovery, async (request) => {
      if (formDecoded(basicPair(request) ?? ':') !== `${clientId}:${secret}`) {
        return respond(errorAnswer(fixture, 'wrong secret'));
      }
      if (!request.form.has('scope')) return respond(errorAnswer(fixture, 'no scope'));
      const proof = await verifyDpopProof(request.headers.get('dpop') ?? undefined);
      if (!listed.includes(proof.header.alg)) {
        return json({ error: 'invalid_dpop_proof', error_description: 'unsupported alg' }, 400);
      }
      if (proof.payload.nonce !== nonce) return respond(errorAnswer(fixture, 'DPoP on'));
      return respond(fixture.tokenEndpoint.success, { token_type: 'DPoP' });
    });
  };

  it('signs proofs with ES256, which Okta lists (and EdDSA, the default, it does not)', async () => {
    const fetch = okta();
    const auth = createAuthClient({
      profile: 'okta',
      issuer,
      clientId,
      clientSecret: secret,
      scope,
      dpop: true,
      fetch,
    });
    const token = await auth.getToken();
    expect(token.token_type).toBe('DPoP');
    const attempts = tokenRequests(fetch);
    expect(attempts).toHaveLength(2);
    const proof = await verifyDpopProof(attempts[1]?.headers.get('dpop') ?? undefined);
    expect(proof.header.alg).toBe('ES256');
    expect(proof.header.jwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
  });

  it('chooses ES256 from discovery without the profile too', async () => {
    const fetch = okta();
    const auth = createAuthClient({
      issuer,
      clientId,
      clientSecret: secret,
      scope,
      dpop: true,
      fetch,
    });
    expect((await auth.getToken()).token_type).toBe('DPoP');
  });

  it("uses the profile's dpopAlgorithms when discovery is not read (tokenEndpoint given)", async () => {
    const fetch = okta();
    const auth = createAuthClient({
      profile: 'okta',
      tokenEndpoint: fixture.discovery.token_endpoint as string,
      clientId,
      clientSecret: secret,
      scope,
      dpop: true,
      fetch,
    });
    expect((await auth.getToken()).token_type).toBe('DPoP');
    expect(fetch.seen.every((request) => request.method === 'POST')).toBe(true);
  });

  it('is refused by Okta with an EdDSA key when neither discovery nor a profile says otherwise', async () => {
    const fetch = okta();
    const error = await createAuthClient({
      tokenEndpoint: fixture.discovery.token_endpoint as string,
      clientId,
      clientSecret: secret,
      scope,
      dpop: true,
      fetch,
      retry: false,
    })
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_dpop_proof' });
  });

  it('refuses a supplied Ed25519 key before any token request, naming what Okta lists', async () => {
    const fetch = okta();
    const pair = await generateKeyPair('Ed25519', { extractable: true });
    const auth = createAuthClient({
      profile: 'okta',
      issuer,
      clientId,
      clientSecret: secret,
      scope,
      dpop: { privateKey: pair.privateKey, publicKey: await exportJWK(pair.publicKey) },
      fetch,
    });
    const error = await auth.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'dpop' });
    expect((error as Error).message).toContain(
      'signs with EdDSA, which the authorization server does not accept',
    );
    expect((error as Error).message).toContain('RS256, RS384, RS512, ES256, ES384, ES512');
    expect(tokenRequests(fetch)).toHaveLength(0);
  });

  it('names the token endpoint as the aud of private_key_jwt assertions', async () => {
    const fetch = fakeIdp(fixture.discovery, () => respond(fixture.tokenEndpoint.success));
    const { privateKey } = await generateKeyPair('RS256');
    await createAuthClient({
      profile: 'okta',
      issuer,
      clientId,
      clientAuth: 'private_key_jwt',
      privateKey,
      scope,
      fetch,
    }).getToken();
    const assertion = tokenRequests(fetch)[0]?.form.get('client_assertion') ?? '';
    expect(decodeJwt(assertion).aud).toBe(fixture.discovery.token_endpoint);
  });

  it('names the issuer when clientAssertionAudience says so: the option wins', async () => {
    const fetch = fakeIdp(fixture.discovery, () => respond(fixture.tokenEndpoint.success));
    const { privateKey } = await generateKeyPair('RS256');
    await createAuthClient({
      profile: 'okta',
      issuer,
      clientId,
      clientAuth: 'private_key_jwt',
      privateKey,
      clientAssertionAudience: 'issuer',
      scope,
      fetch,
    }).getToken();
    const assertion = tokenRequests(fetch)[0]?.form.get('client_assertion') ?? '';
    expect(decodeJwt(assertion).aud).toBe(issuer);
  });
});

describe('authentik: Basic credentials that are not form-encoded', () => {
  const fixture = idpFixtures.authentik;
  const { clientId, issuer, scope } = fixture.client;

  /** authentik decodes the Basic credential as it is: no form decoding. */
  const authentik = () =>
    fakeIdp(fixture.discovery, (request) =>
      basicPair(request) === `${clientId}:${secret}`
        ? respond(fixture.tokenEndpoint.success)
        : respond(errorAnswer(fixture, 'wrong secret')),
    );

  it('sends id and secret as they are, and gets the token', async () => {
    const fetch = authentik();
    const auth = createAuthClient({
      profile: 'authentik',
      issuer,
      clientId,
      clientSecret: secret,
      scope,
      fetch,
    });
    expect(await auth.getToken()).toMatchObject({ token_type: 'Bearer', scope: 'openid profile' });
  });

  it('is refused with invalid_grant without the profile, the RFC encoding turning + into %2B', async () => {
    const fetch = authentik();
    const error = await createAuthClient({
      issuer,
      clientId,
      clientSecret: secret,
      scope,
      fetch,
      retry: false,
    })
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_grant' });
  });

  it("form-encodes when clientSecretBasicEncoding: 'form' is given: the option wins", async () => {
    const fetch = fakeIdp(fixture.discovery, () => respond(fixture.tokenEndpoint.success));
    await createAuthClient({
      profile: 'authentik',
      issuer,
      clientId,
      clientSecret: secret,
      clientSecretBasicEncoding: 'form',
      fetch,
    }).getToken();
    const pair = basicPair(tokenRequests(fetch)[0]!) ?? '';
    expect(pair).not.toBe(`${clientId}:${secret}`);
    expect(formDecoded(pair)).toBe(`${clientId}:${secret}`);
  });

  it('sends the service-account username and app password as tokenParameters', async () => {
    const appPassword = 'Zq8+kT2/app=password';
    const fetch = fakeIdp(fixture.discovery, (request) =>
      request.form.get('username') === 'orders-worker' &&
      request.form.get('password') === appPassword
        ? respond(fixture.tokenEndpoint.success)
        : respond(errorAnswer(fixture, 'wrong secret')),
    );
    const auth = createAuthClient({
      profile: 'authentik',
      issuer,
      clientId,
      clientSecret: secret,
      scope,
      tokenParameters: { username: 'orders-worker', password: appPassword },
      fetch,
    });
    expect((await auth.getToken()).access_token).toBe('<jwt>');
  });
});

describe('the DPoP key of dpop: true, per IdP discovery document', () => {
  async function proofAlgorithm(profile: ProfileName, withProfile = true): Promise<string> {
    const fixture = idpFixtures[profile];
    const fetch = fakeIdp(fixture.discovery, () =>
      respond(fixture.tokenEndpoint.success, { token_type: 'DPoP' }),
    );
    await createAuthClient({
      ...(withProfile ? { profile } : {}),
      issuer: fixture.client.issuer,
      clientId: fixture.client.clientId,
      clientSecret: secret,
      dpop: true,
      fetch,
    }).getToken();
    const proof = await verifyDpopProof(tokenRequests(fetch)[0]?.headers.get('dpop') ?? undefined);
    return proof.header.alg;
  }

  it('is ES256 for Duende, which lists RS*, PS* and ES* but no EdDSA', async () => {
    expect(await proofAlgorithm('duende')).toBe('ES256');
  });

  it('is ES256 for authentik, which lists no EdDSA', async () => {
    expect(await proofAlgorithm('authentik')).toBe('ES256');
  });

  it('is EdDSA for Keycloak, which lists it', async () => {
    expect(await proofAlgorithm('keycloak')).toBe('EdDSA');
  });

  it("is the profile's ES256 for Auth0, whose discovery lists none, and EdDSA without the profile", async () => {
    expect(await proofAlgorithm('auth0')).toBe('ES256');
    expect(await proofAlgorithm('auth0', false)).toBe('EdDSA');
  });
});
