/**
 * Proves the test IdP (test/support/idp.ts) behaves like the authorization server the other
 * integration tests assume, using nothing but fetch and jose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import {
  basicAuthorization,
  CLIENTS,
  generateSigningKeys,
  mintAccessToken,
  requestToken,
  RESOURCES,
  startIdp,
  type TestIdp,
} from '../support/idp.js';

let idp: TestIdp;

beforeAll(async () => {
  idp = await startIdp();
});

afterAll(async () => {
  await idp.close();
});

describe('the test IdP', () => {
  it('listens on 127.0.0.1 and names itself by that address', () => {
    expect(idp.issuer).toBe(`http://127.0.0.1:${idp.port}`);
    expect(idp.port).toBeGreaterThan(0);
  });

  it('serves the RFC 8414 and the OpenID discovery documents for its issuer', async () => {
    for (const path of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]) {
      const response = await fetch(`${idp.issuer}${path}`);
      expect(response.status).toBe(200);
      const document = (await response.json()) as Record<string, unknown>;
      expect(document.issuer).toBe(idp.issuer);
      expect(document.token_endpoint).toBe(idp.endpoints.token);
      expect(document.jwks_uri).toBe(idp.endpoints.jwks);
      expect(document.introspection_endpoint).toBe(idp.endpoints.introspection);
      expect(document.revocation_endpoint).toBe(idp.endpoints.revocation);
      expect(document.grant_types_supported).toContain('client_credentials');
      expect(document.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));
    }
  });

  it('publishes only public signing keys in its JWKS', async () => {
    const response = await fetch(idp.endpoints.jwks);
    const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(keys.map((key) => key.kid).sort()).toEqual(idp.keys.map((key) => key.kid).sort());
    for (const key of keys) expect(key).not.toHaveProperty('d');
  });

  it('can serve OpenID discovery only (RFC 8414 document answered 404)', async () => {
    const openIdOnly = await startIdp({ withoutOAuthMetadata: true });
    try {
      const oauth = await fetch(`${openIdOnly.issuer}/.well-known/oauth-authorization-server`);
      expect(oauth.status).toBe(404);
      const openid = await fetch(`${openIdOnly.issuer}/.well-known/openid-configuration`);
      expect(openid.status).toBe(200);
      expect(((await openid.json()) as { issuer?: string }).issuer).toBe(openIdOnly.issuer);
    } finally {
      await openIdOnly.close();
    }
  });

  it('records every request with its method and path', async () => {
    const before = idp.count('/jwks', 'GET');
    await fetch(`${idp.endpoints.jwks}?probe=1`);
    expect(idp.count('/jwks', 'GET')).toBe(before + 1);
    expect(idp.requests.at(-1)).toMatchObject({ method: 'GET', path: '/jwks' });
  });

  it('mints a client_credentials token for form-encoded Basic credentials', async () => {
    const { status, body } = await requestToken(idp, { scope: 'orders:read' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'orders:read', expires_in: 300 });
    expect(typeof body.access_token).toBe('string');
    const sent = idp.requests.filter((r) => r.path === '/token').at(-1);
    expect(sent?.headers.authorization).toBe(
      basicAuthorization(CLIENTS.basic.clientId, CLIENTS.basic.clientSecret),
    );
  });

  it('rejects Basic credentials that were not form-encoded', async () => {
    const raw = Buffer.from(`${CLIENTS.basic.clientId}:${CLIENTS.basic.clientSecret}`).toString(
      'base64',
    );
    const response = await fetch(idp.endpoints.token, {
      method: 'POST',
      headers: {
        authorization: `Basic ${raw}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('issues RFC 9068 JWT access tokens (typ at+jwt) for the JWT resource with the requested aud', async () => {
    const token = await mintAccessToken(idp, {
      scope: 'orders:read orders:write',
      resource: RESOURCES.jwt,
    });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(idp.jwks), {
      issuer: idp.issuer,
      audience: RESOURCES.jwt,
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({
      client_id: CLIENTS.basic.clientId,
      scope: 'orders:read orders:write',
    });
  });

  it('defaults to the JWT resource when the request names none', async () => {
    const token = await mintAccessToken(idp, { scope: 'orders:read' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(idp.jwks), {
      audience: RESOURCES.jwt,
    });
    expect(payload.aud).toBe(RESOURCES.jwt);
  });

  it('signs with ES256 and EdDSA for the resources configured so', async () => {
    const es256 = await mintAccessToken(idp, {
      scope: 'inventory:read',
      resource: RESOURCES.es256,
    });
    const eddsa = await mintAccessToken(idp, { scope: 'billing:read', resource: RESOURCES.eddsa });
    expect(decodeProtectedHeader(es256)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(decodeProtectedHeader(eddsa)).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    const verifiedEs256 = await jwtVerify(es256, createLocalJWKSet(idp.jwks), {
      audience: RESOURCES.es256,
    });
    expect(verifiedEs256.protectedHeader.alg).toBe('ES256');
    expect(verifiedEs256.payload).toMatchObject({ aud: RESOURCES.es256, scope: 'inventory:read' });
    const verifiedEddsa = await jwtVerify(eddsa, createLocalJWKSet(idp.jwks), {
      audience: RESOURCES.eddsa,
    });
    expect(verifiedEddsa.protectedHeader.alg).toBe('EdDSA');
    expect(verifiedEddsa.payload).toMatchObject({ aud: RESOURCES.eddsa, scope: 'billing:read' });
  });

  it('issues opaque tokens for the opaque resource that introspect as active', async () => {
    const token = await mintAccessToken(idp, { scope: 'ledger:read', resource: RESOURCES.opaque });
    expect(token.split('.')).toHaveLength(1);
    const response = await fetch(idp.endpoints.introspection, {
      method: 'POST',
      headers: {
        authorization: basicAuthorization(
          CLIENTS.resourceServer.clientId,
          CLIENTS.resourceServer.clientSecret,
        ),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      active: true,
      client_id: CLIENTS.basic.clientId,
      scope: 'ledger:read',
      aud: RESOURCES.opaque,
      token_type: 'Bearer',
      iss: idp.issuer,
    });
  });

  it('answers the OAuth errors the error tests rely on', async () => {
    const badSecret = await requestToken(idp, {
      client: { clientId: CLIENTS.basic.clientId, clientSecret: 'wrong' },
    });
    expect(badSecret).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const badScope = await requestToken(idp, { scope: 'orders:admin' });
    expect(badScope).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    const badResource = await requestToken(idp, { resource: 'https://unknown.example.test/' });
    expect(badResource).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
    const noProof = await requestToken(idp, { client: CLIENTS.dpopOnly });
    expect(noProof).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('keeps tokens of two IdPs apart (each has its own storage)', async () => {
    const other = await startIdp();
    try {
      const token = await mintAccessToken(other, {
        resource: RESOURCES.opaque,
        scope: 'ledger:read',
      });
      const response = await fetch(idp.endpoints.introspection, {
        method: 'POST',
        headers: {
          authorization: basicAuthorization(
            CLIENTS.resourceServer.clientId,
            CLIENTS.resourceServer.clientSecret,
          ),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
      });
      expect(await response.json()).toEqual({ active: false });
    } finally {
      await other.close();
    }
  });

  it('runs with a single RS256 key for the default JWT resource', async () => {
    const single = await startIdp({ keys: await generateSigningKeys(['RS256']) });
    try {
      const token = await mintAccessToken(single, { resource: RESOURCES.jwt });
      const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(single.jwks), {
        audience: RESOURCES.jwt,
      });
      expect(protectedHeader.kid).toBe(single.keys[0]?.kid);
    } finally {
      await single.close();
    }
  });

  it('restarts on the same port with new signing keys', async () => {
    const first = await startIdp();
    const { port } = first;
    const oldKids = first.keys.map((key) => key.kid);
    await fetch(first.endpoints.jwks);
    await first.close();
    const second = await startIdp({
      port,
      keys: await generateSigningKeys(['RS256', 'ES256', 'EdDSA'], { kidPrefix: 'rotated' }),
    });
    try {
      expect(second.issuer).toBe(first.issuer);
      const { keys } = (await (await fetch(second.endpoints.jwks)).json()) as {
        keys: { kid: string }[];
      };
      expect(keys.map((key) => key.kid)).not.toEqual(expect.arrayContaining(oldKids));
      expect(keys.every((key) => key.kid.startsWith('rotated-'))).toBe(true);
    } finally {
      await second.close();
    }
  });
});
