/**
 * Proves the glewlwyd harness (test/support/glewlwyd.ts) gives the other glewlwyd tests the
 * server they assume, with nothing but fetch and jose, and that it fails loudly and cleans up.
 */
import { existsSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  GLEWLWYD_RESOURCES,
  GLEWLWYD_SCOPES,
  glewlwydForFile,
  startGlewlwyd,
} from '../../support/glewlwyd.js';
import { startForFile } from '../../support/lifecycle.js';

const idp = glewlwydForFile();

// A handle read while the file's tests are being collected, before any beforeAll ran.
const early = startForFile(() =>
  Promise.resolve({ name: 'started', close: () => Promise.resolve() }),
);
let readTooEarly: unknown;
try {
  readTooEarly = early.name;
} catch (error) {
  readTooEarly = error;
}

describe('the glewlwyd harness', () => {
  it('serves the OpenID discovery document of its issuer on 127.0.0.1', async () => {
    expect(idp.issuer).toBe(`http://127.0.0.1:${idp.port}/api/oidc`);
    const response = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      issuer: idp.issuer,
      token_endpoint: idp.tokenEndpoint,
      jwks_uri: idp.jwksUri,
      introspection_endpoint: idp.introspectionEndpoint,
      revocation_endpoint: idp.revocationEndpoint,
    });
  });

  it('publishes the fresh signing key it configured and signs tokens with it', async () => {
    const jwks = (await (await fetch(idp.jwksUri)).json()) as { keys: unknown[] };
    expect(jwks.keys).toEqual([expect.objectContaining(idp.signingKeys[0])]);
    const { clientId, clientSecret } = idp.clients.basic;
    const response = await fetch(idp.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${clientId}:${clientSecret}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: GLEWLWYD_SCOPES.ordersRead,
        resource: GLEWLWYD_RESOURCES.orders,
      }),
    });
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    const { payload } = await jwtVerify(access_token, createLocalJWKSet(jwks as never), {
      issuer: idp.issuer,
      audience: GLEWLWYD_RESOURCES.orders,
      typ: 'at+jwt',
    });
    expect(payload.client_id).toBe(clientId);
  });

  it('throws with the HTTP status and body when an admin call fails', async () => {
    await expect(
      idp.admin('POST', '/client/', { client_id: 'x', scope: GLEWLWYD_SCOPES.ordersRead }),
    ).rejects.toThrow(
      'glewlwyd admin POST /api/client/ failed: HTTP 400 ["scope must be a JSON array of string"]',
    );
    await expect(
      idp.admin('POST', '/mod/plugin/', { module: 'oidc', name: 'broken', parameters: {} }),
    ).rejects.toThrow(/failed: HTTP 400 \["iss is mandatory must be a non empty string",/);
  });

  it('fails, saying how to install glewlwyd, when there is none', async () => {
    await expect(startGlewlwyd({ binary: '/nonexistent/glewlwyd' })).rejects.toThrow(
      /^glewlwyd is not installed\. Install the Debian package, as \.ci\/run does: .*apt-get install -y glewlwyd/,
    );
  });

  it('stops the server and removes its directory on close', async () => {
    const other = await startGlewlwyd({ signingAlgorithm: 'ES256' });
    expect(existsSync(other.directory)).toBe(true);
    await other.close();
    await other.close();
    expect(existsSync(other.directory)).toBe(false);
    expect(() => process.kill(other.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    await expect(fetch(`${other.origin}/config`)).rejects.toThrow(TypeError);
  });

  it('stands for the server only once beforeAll started it: read earlier, it throws', () => {
    expect(readTooEarly).toBeInstanceOf(Error);
    expect((readTooEarly as Error).message).toBe(
      'read `name` of a server before beforeAll started it',
    );
    expect(early.name).toBe('started');
    expect(idp.issuer).toBe(`${idp.origin}/api/oidc`);
  });
});
