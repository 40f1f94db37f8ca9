/**
 * private_key_jwt client assertions (RFC 7523 §2.2, §3), signed by the crypto backend without
 * jose; jose verifies them here as an independent implementation.
 */
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClientAuthenticator } from '../../../src/runtime/client/client-auth.js';
import type { AsymmetricAlgorithm } from '../../../src/runtime/shared/keys.js';
import { manualClock } from '../fake-fetch.js';

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
  expect(body['client_assertion_type']).toBe(
    'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  );
  expect(body['client_id']).toBe('svc');
  return body['client_assertion'] as string;
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
    await expect(
      jwtVerify(assertion, pair.publicKey, { currentDate: clock.now() }),
    ).resolves.toBeDefined();
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
        const { payload } = await jwtVerify(body['client_assertion'] as string, pair.publicKey, {
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
    const auth = authenticator(jwk);
    await expect(auth.authenticate(audience)).rejects.toThrow(TypeError);
    await expect(auth.authenticate(audience)).resolves.toBeDefined();
    expect(importKey).toHaveBeenCalledTimes(2);
  });
});
