/**
 * Client authentication at the token endpoint: private_key_jwt client assertions (RFC 7523
 * §2.2, §3), signed by the crypto backend without jose and verified here by jose as an
 * independent implementation, their audience, and the encoding of client_secret_basic
 * credentials (RFC 6749 §2.3.1).
 */
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAuthClient, OAuthError } from '../../../src/index.js';
import { createClientAuthenticator } from '../../../src/runtime/client/client-authentication.js';
import type { AsymmetricAlgorithm } from '../../../src/runtime/shared/keys.js';
import { fakeFetch, json, manualClock } from '../fake-fetch.js';

const audience = 'https://idp.example.test/';

function authenticator(privateKey: CryptoKey | JWK, clock = manualClock()) {
  return createClientAuthenticator({
    method: 'private_key_jwt',
    clientId: 'svc',
    privateKey,
    now: clock.now,
  });
}

async function assertionOf(privateKey: CryptoKey | JWK, clock = manualClock()): Promise<string> {
  const { body } = await authenticator(privateKey, clock).authenticate(audience);
  expect(body.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  expect(body.client_id).toBe('svc');
  return body.client_assertion as string;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('private_key_jwt', () => {
  it.each<AsymmetricAlgorithm>(['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'PS512', 'EdDSA'])(
    'signs a %s assertion from a private JWK that jose verifies',
    async (alg) => {
      const pair = await generateKeyPair(alg, { extractable: true });
      const jwk = { ...(await exportJWK(pair.privateKey)), alg, kid: 'key-1' };
      const clock = manualClock();
      const assertion = await assertionOf(jwk, clock);
      const iat = Math.floor(clock.now().getTime() / 1000);
      const { payload, protectedHeader } = await jwtVerify(assertion, pair.publicKey, {
        algorithms: [alg],
        issuer: 'svc',
        subject: 'svc',
        audience,
        typ: 'JWT',
        currentDate: clock.now(),
      });
      expect(protectedHeader).toEqual({ alg, kid: 'key-1', typ: 'JWT' });
      expect(payload).toEqual({
        iss: 'svc',
        sub: 'svc',
        aud: audience,
        jti: expect.stringMatching(/^[\w-]{22}$/),
        iat,
        exp: iat + 60,
      });
    },
  );

  it('takes the algorithm from a CryptoKey, names no kid and keeps the key non-extractable', async () => {
    const pair = await generateKeyPair('ES384');
    expect(pair.privateKey.extractable).toBe(false);
    const clock = manualClock();
    const assertion = await assertionOf(pair.privateKey, clock);
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'ES384', typ: 'JWT' });
    const { payload } = await jwtVerify(assertion, pair.publicKey, { currentDate: clock.now() });
    expect(payload).toMatchObject({ iss: 'svc', sub: 'svc', aud: audience });
  });

  it('imports a JWK once, non-extractable, and sends a fresh jti with every assertion', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    const clock = manualClock();
    const auth = authenticator(await exportJWK(pair.privateKey), clock);
    const [a, b] = await Promise.all([auth.authenticate(audience), auth.authenticate(audience)]);
    expect(importKey).toHaveBeenCalledTimes(1);
    expect(importKey.mock.calls[0]?.[3]).toBe(false);
    const ids = await Promise.all(
      [a, b].map(async ({ body }) => {
        const { payload } = await jwtVerify(body.client_assertion as string, pair.publicKey, {
          currentDate: clock.now(),
        });
        return payload.jti;
      }),
    );
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('refuses, with a TypeError that names no key material, a key that cannot sign', async () => {
    const rsa = await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey);
    const ec = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
    const { d: _d, ...ecPublic } = ec;
    const cases: [JWK, string][] = [
      [{ ...rsa, alg: 'ES256' }, 'the JWK does not fit ES256'],
      [{ ...ec, alg: 'ES384' }, 'the JWK does not fit ES384'],
      [{ ...ec, crv: 'P-384' }, 'the JWK could not be imported'],
      [ecPublic, 'the JWK is not a private key'],
      [{ ...ec, use: 'enc' }, '(`use`)'],
      [{ ...ec, x: 'AAAA' }, 'the JWK could not be imported'],
    ];
    for (const [jwk, message] of cases) {
      const error = await authenticator(jwk)
        .authenticate(audience)
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
      expect(error, message).toBeInstanceOf(TypeError);
      expect(String(error)).toContain('createAuthClient: `privateKey`: ');
      expect(String(error)).toContain(message);
      for (const secret of [rsa.d, ec.d, rsa.p, rsa.q]) {
        expect(inspect(error, { depth: 5 })).not.toContain(secret);
      }
    }
  });

  it('tries the import again after a failure rather than keeping it', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(pair.privateKey);
    const importKey = vi
      .spyOn(crypto.subtle, 'importKey')
      .mockRejectedValueOnce(new DOMException('busy', 'OperationError'));
    const clock = manualClock();
    const auth = authenticator(jwk, clock);
    await expect(auth.authenticate(audience)).rejects.toThrow(TypeError);
    const { body } = await auth.authenticate(audience);
    const { payload } = await jwtVerify(body.client_assertion as string, pair.publicKey, {
      currentDate: clock.now(),
    });
    expect(payload).toMatchObject({ iss: 'svc', sub: 'svc', aud: audience });
    expect(importKey).toHaveBeenCalledTimes(2);
  });
});

describe('private_key_jwt assertion audience', () => {
  const issuer = 'https://idp.example.test/tenant';
  const tokenEndpoint = 'https://idp.example.test/tenant/oauth2/token';

  async function audienceOf(
    init: { issuer?: string; assertionAudience?: string },
    endpoint = tokenEndpoint,
  ): Promise<unknown> {
    const pair = await generateKeyPair('ES256');
    const clock = manualClock();
    const { body } = await createClientAuthenticator({
      method: 'private_key_jwt',
      clientId: 'svc',
      privateKey: pair.privateKey,
      now: clock.now,
      ...init,
    }).authenticate(endpoint);
    const { payload } = await jwtVerify(body.client_assertion as string, pair.publicKey, {
      currentDate: clock.now(),
    });
    return payload.aud;
  }

  it('names the issuer by default, not the URL the assertion is sent to (RFC 7523 §3)', async () => {
    await expect(audienceOf({ issuer })).resolves.toBe(issuer);
    await expect(audienceOf({ issuer, assertionAudience: 'issuer' })).resolves.toBe(issuer);
  });

  it('names the token endpoint by default when no issuer is configured', async () => {
    await expect(audienceOf({})).resolves.toBe(tokenEndpoint);
  });

  it("names the token endpoint's URL with 'token_endpoint', even when an issuer is configured", async () => {
    await expect(audienceOf({ issuer, assertionAudience: 'token_endpoint' })).resolves.toBe(
      tokenEndpoint,
    );
  });

  it('names a given absolute URI exactly as given', async () => {
    for (const given of ['https://idp.example.test/', 'urn:example:authorization-server']) {
      await expect(audienceOf({ issuer, assertionAudience: given })).resolves.toBe(given);
    }
  });

  it('refuses, with a TypeError naming what it found, a value that is no keyword and no absolute URI', () => {
    const cases: [unknown, string][] = [
      ['token-endpoint', 'got "token-endpoint"'],
      ['tokenEndpoint', 'got "tokenEndpoint"'],
      ['', 'got ""'],
      ['https://idp.example.test/a b', 'got "https://idp.example.test/a b"'],
      [42, 'got number'],
      [null, 'got object'],
    ];
    for (const [value, found] of cases) {
      const make = () =>
        createClientAuthenticator({
          method: 'private_key_jwt',
          clientId: 'svc',
          privateKey: { kty: 'EC' },
          issuer,
          assertionAudience: value as string,
          now: manualClock().now,
        });
      expect(make, String(value)).toThrow(TypeError);
      expect(make, String(value)).toThrow(
        "createAuthClient: `clientAssertionAudience` must be 'issuer', 'token_endpoint' or an absolute URI, " +
          found,
      );
    }
  });

  it('refuses clientAssertionAudience with the secret methods, where it would do nothing', () => {
    for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
      expect(() =>
        createClientAuthenticator({
          method,
          clientId: 'svc',
          clientSecret: 'secret',
          assertionAudience: 'token_endpoint',
          now: manualClock().now,
        }),
      ).toThrow(`\`clientAssertionAudience\` applies to private_key_jwt only, not ${method}`);
    }
  });

  it('sends the token endpoint as aud from createAuthClient, with discovery skipped for it', async () => {
    const pair = await generateKeyPair('ES256');
    const clock = manualClock();
    const fetch = fakeFetch(() =>
      json({ access_token: 'at', token_type: 'Bearer', expires_in: 300 }),
    );
    const auth = createAuthClient({
      issuer,
      tokenEndpoint,
      clientId: 'svc',
      clientAuth: 'private_key_jwt',
      privateKey: pair.privateKey,
      clientAssertionAudience: 'token_endpoint',
      fetch,
      now: clock.now,
    });
    await auth.getToken();
    const assertion = fetch.seen[0]?.form.get('client_assertion') ?? '';
    const { payload } = await jwtVerify(assertion, pair.publicKey, {
      currentDate: clock.now(),
      audience: tokenEndpoint,
    });
    expect(payload.aud).toBe(tokenEndpoint);
  });
});

describe('client_secret_basic encoding', () => {
  const awkward = 'a+b/c=d%25e f';

  function decodedBasic(headers: Record<string, string>): string {
    const value = headers.Authorization ?? '';
    expect(value).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
    const binary = atob(value.slice('Basic '.length));
    return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  }

  async function basicOf(
    clientId: string,
    clientSecret: string,
    basicEncoding?: 'form' | 'none',
  ): Promise<string> {
    const { headers, body } = await createClientAuthenticator({
      method: 'client_secret_basic',
      clientId,
      clientSecret,
      now: manualClock().now,
      ...(basicEncoding === undefined ? {} : { basicEncoding }),
    }).authenticate('https://idp.example.test/token');
    expect(body).toEqual({});
    return decodedBasic(headers);
  }

  it('form-encodes the id and the secret by default, as RFC 6749 §2.3.1 requires', async () => {
    await expect(basicOf('svc one', awkward)).resolves.toBe('svc+one:a%2Bb%2Fc%3Dd%2525e+f');
    await expect(basicOf('svc one', awkward, 'form')).resolves.toBe(
      'svc+one:a%2Bb%2Fc%3Dd%2525e+f',
    );
  });

  it("sends the id and the secret as they are with 'none', non-ASCII as UTF-8", async () => {
    await expect(basicOf('svc one', awkward, 'none')).resolves.toBe(`svc one:${awkward}`);
    await expect(basicOf('svc', 'sécret ✓:x', 'none')).resolves.toBe('svc:sécret ✓:x');
  });

  it("refuses 'none' with a client id holding a colon, which the server would split at", () => {
    expect(() =>
      createClientAuthenticator({
        method: 'client_secret_basic',
        clientId: 'urn:svc',
        clientSecret: 'secret',
        basicEncoding: 'none',
        now: manualClock().now,
      }),
    ).toThrow(
      new TypeError(
        "createAuthClient: `clientSecretBasicEncoding: 'none'` cannot send a `clientId` that contains ':'",
      ),
    );
  });

  it('refuses, with a TypeError naming what it found, an encoding other than form or none', () => {
    const cases: [unknown, string][] = [
      ['raw', 'got "raw"'],
      ['FORM', 'got "FORM"'],
      [true, 'got boolean'],
    ];
    for (const [value, found] of cases) {
      expect(() =>
        createClientAuthenticator({
          method: 'client_secret_basic',
          clientId: 'svc',
          clientSecret: 'secret',
          basicEncoding: value as 'form',
          now: manualClock().now,
        }),
      ).toThrow(
        new TypeError(
          `createAuthClient: \`clientSecretBasicEncoding\` must be 'form' or 'none', ${found}`,
        ),
      );
    }
  });

  it('refuses clientSecretBasicEncoding with the other methods, where it would do nothing', () => {
    for (const method of ['client_secret_post', 'private_key_jwt'] as const) {
      expect(() =>
        createClientAuthenticator({
          method,
          clientId: 'svc',
          clientSecret: 'secret',
          privateKey: { kty: 'EC' },
          basicEncoding: 'none',
          now: manualClock().now,
        }),
      ).toThrow(`\`clientSecretBasicEncoding\` applies to client_secret_basic only, not ${method}`);
    }
  });

  it('reaches the wire unencoded from createAuthClient, and never shows up in an error', async () => {
    const fetch = fakeFetch(() => json({ error: 'invalid_client' }, 401));
    const auth = createAuthClient({
      tokenEndpoint: 'https://idp.example.test/token',
      clientId: 'svc',
      clientSecret: awkward,
      clientSecretBasicEncoding: 'none',
      fetch,
      now: manualClock().now,
      retry: false,
    });
    const error = await auth.getToken().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_client' });
    expect(fetch.seen).toHaveLength(1);
    const header = fetch.seen[0]?.headers.get('authorization') ?? '';
    expect(decodedBasic({ Authorization: header })).toBe(`svc:${awkward}`);
    const shown = inspect(error, { depth: 5 });
    for (const leak of [awkward, header.slice('Basic '.length)]) {
      expect(shown).not.toContain(leak);
    }
  });
});
