/**
 * What the token client does for real IdPs, against a real authorization server (oidc-provider
 * on 127.0.0.1): extra token-request parameters reach the IdP and get tokens cached apart, a
 * resource goes out under another parameter name, and the DPoP key's algorithm is one the
 * IdP's discovery document lists. The IdP copies the parameters it is told to into the access
 * token, so the tests read what it received from the token it issued.
 */
import { describe, expect, it } from 'vitest';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { createAuthClient } from '../../src/index.js';
import { confirmationThumbprint, verifyDpopProof } from '../support/dpop.js';
import { RESOURCES, startIdp } from '../support/idp.js';
import {
  basicClientOptions as basic,
  discoveryRequests,
  lastTokenProof as lastProof,
  tokenRequests,
} from '../support/idp-requests.js';
import { startForFile } from '../support/lifecycle.js';

const idp = startForFile(() =>
  startIdp({ tokenClaimsFromParameters: ['tenant', 'region', 'audience'] }),
);
const es256Idp = startForFile(() => startIdp({ dpopSigningAlgorithms: ['ES256'] }));

describe('tokenParameters at a real IdP', () => {
  it('sends the default parameters with every token request: the IdP received them', async () => {
    const auth = createAuthClient(basic(idp, { tokenParameters: { tenant: 'acme' } }));
    const token = await auth.getAccessToken();
    expect(decodeJwt(token)).toMatchObject({ tenant: 'acme' });
  });

  it('sends a list as one parameter per value, sorted', async () => {
    const auth = createAuthClient(basic(idp, { tokenParameters: { region: ['us', 'eu'] } }));
    expect(decodeJwt(await auth.getAccessToken())).toMatchObject({ region: ['eu', 'us'] });
  });

  it('caches a token per parameter set: other values get their own token, the same ones share it', async () => {
    const auth = createAuthClient(basic(idp, { tokenParameters: { tenant: 'acme' } }));
    const before = tokenRequests(idp);
    const acme = await auth.getAccessToken();
    const globex = await auth.getAccessToken({ tokenParameters: { tenant: 'globex' } });
    expect(tokenRequests(idp) - before).toBe(2);
    expect(decodeJwt(acme)).toMatchObject({ tenant: 'acme' });
    expect(decodeJwt(globex)).toMatchObject({ tenant: 'globex' });
    expect(await auth.getAccessToken()).toBe(acme);
    expect(await auth.getAccessToken({ tokenParameters: { tenant: 'globex' } })).toBe(globex);
    expect(await auth.getAccessToken({ tokenParameters: { tenant: 'acme' } })).toBe(acme);
    expect(tokenRequests(idp) - before).toBe(2);
  });

  it('lays per-call parameters over the defaults name by name', async () => {
    const auth = createAuthClient(
      basic(idp, { tokenParameters: { tenant: 'acme', region: 'eu' } }),
    );
    const token = await auth.getAccessToken({ tokenParameters: { region: 'us' } });
    expect(decodeJwt(token)).toMatchObject({ tenant: 'acme', region: 'us' });
  });

  it('refuses a parameter the client owns before anything reaches the IdP', async () => {
    const before = tokenRequests(idp);
    expect(() =>
      createAuthClient(basic(idp, { tokenParameters: { scope: 'orders:admin' } })),
    ).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_OPTION',
        option: 'tokenParameters.scope',
      }),
    );
    const auth = createAuthClient(basic(idp));
    const error = await auth
      .getToken({ tokenParameters: { client_id: 'someone-else' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ option: 'tokenParameters.client_id' });
    expect(tokenRequests(idp)).toBe(before);
  });

  it('sends the resource as the audienceParameter, and the IdP gets no resource parameter', async () => {
    const auth = createAuthClient(
      basic(idp, { audienceParameter: 'audience', resource: RESOURCES.es256 }),
    );
    const payload = decodeJwt(await auth.getAccessToken());
    // Without `resource`, oidc-provider issues for its default resource: the value came as `audience`.
    expect(payload).toMatchObject({ audience: RESOURCES.es256, aud: RESOURCES.jwt });
  });
});

describe('the DPoP algorithm, from the real IdP discovery document', () => {
  it('makes an Ed25519 key when the IdP lists EdDSA (oidc-provider lists ES256, Ed25519 and EdDSA)', async () => {
    const auth = createAuthClient(basic(idp, { dpop: true }));
    const token = await auth.getToken();
    const proof = await lastProof(idp);
    expect(proof.header.alg).toBe('EdDSA');
    expect(proof.header.jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(confirmationThumbprint(token.access_token)).toBe(proof.jkt);
  });

  it('makes an ES256 key for an IdP that lists only ES256, and gets a token bound to it', async () => {
    const auth = createAuthClient(basic(es256Idp, { dpop: true }));
    const token = await auth.getToken();
    expect(token.token_type).toBe('DPoP');
    const proof = await lastProof(es256Idp);
    expect(proof.header.alg).toBe('ES256');
    expect(proof.header.jwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(proof.header.jwk).not.toHaveProperty('d');
    expect(confirmationThumbprint(token.access_token)).toBe(proof.jkt);
  });

  it('reads discovery before buildDpopProof signs its first proof, and signs with ES256', async () => {
    const auth = createAuthClient(basic(es256Idp, { dpop: true }));
    const before = discoveryRequests(es256Idp);
    const proof = await verifyDpopProof(
      await auth.buildDpopProof({ htm: 'GET', htu: 'https://orders.example.test/orders' }),
    );
    expect(discoveryRequests(es256Idp)).toBeGreaterThan(before);
    expect(proof.header.alg).toBe('ES256');
    const token = await auth.getToken();
    expect(confirmationThumbprint(token.access_token)).toBe(proof.jkt);
  });

  it('refuses a supplied Ed25519 key the IdP does not list, naming the list, before sending a token request', async () => {
    const pair = await generateKeyPair('Ed25519', { extractable: true });
    const auth = createAuthClient(
      basic(es256Idp, {
        dpop: { privateKey: pair.privateKey, publicKey: await exportJWK(pair.publicKey) },
      }),
    );
    const before = tokenRequests(es256Idp);
    const error = await auth.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'dpop' });
    expect((error as Error).message).toContain('EdDSA');
    expect((error as Error).message).toContain('dpop_signing_alg_values_supported lists ES256');
    expect(tokenRequests(es256Idp)).toBe(before);
  });

  it('takes a supplied ES256 key the IdP lists', async () => {
    const pair = await generateKeyPair('ES256');
    const auth = createAuthClient(basic(es256Idp, { dpop: pair }));
    expect((await auth.getToken()).token_type).toBe('DPoP');
  });
});
