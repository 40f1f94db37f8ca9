import { exportJWK, generateKeyPair, calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenHash, verifyDpopProof } from '../support/dpop.js';
import { assertBuilt, expectNoSecrets, runCli, tempDir } from './run-cli.js';

let files: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  assertBuilt();
  files = await tempDir();
});
afterAll(() => files?.remove());

describe('s2s-auth dpop-proof', () => {
  it('signs a proof with the key file: typ, jwk, htm, htu without query, iat, jti', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    const path = await files.write('key.json', JSON.stringify({ keys: [jwk] }));
    const before = Math.floor(Date.now() / 1000);
    const result = await runCli([
      'dpop-proof',
      '--htm',
      'POST',
      '--htu',
      'https://orders.example.test/orders?x=1#f',
      '--key',
      path,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const proof = await verifyDpopProof(result.stdout.trim());
    const { d: _d, ...publicJwk } = jwk;
    expect(proof.jkt).toBe(await calculateJwkThumbprint(publicJwk, 'sha256'));
    expect(proof.header.alg).toBe('ES256');
    expect(proof.payload).toMatchObject({
      htm: 'POST',
      htu: 'https://orders.example.test/orders',
      jti: expect.any(String),
    });
    expect(proof.payload.iat).toBeGreaterThanOrEqual(before);
    expect(proof.payload).not.toHaveProperty('ath');
    expectNoSecrets(result, [jwk.d!]);
  });

  it('adds ath for --access-token and the nonce for --nonce', async () => {
    const accessToken = 'opaque-access-token-for-ath-91';
    const result = await runCli(
      [
        'dpop-proof',
        '--htm',
        'GET',
        '--htu',
        'https://orders.example.test/orders/1',
        '--access-token',
        '-',
        '--nonce',
        'n-123',
      ],
      { stdin: `${accessToken}\n` },
    );
    expect(result.code).toBe(0);
    const proof = await verifyDpopProof(result.stdout.trim());
    expect(proof.payload).toMatchObject({ ath: accessTokenHash(accessToken), nonce: 'n-123' });
    expect(result.stdout).not.toContain(accessToken);
  });

  it('makes a fresh Ed25519 key without --key, and shows the proof parts with --json', async () => {
    const result = await runCli([
      'dpop-proof',
      '--htm',
      'GET',
      '--htu',
      'https://a.example.test/',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as {
      proof: string;
      header: { alg: string };
      claims: { htm: string };
      jkt: string;
    };
    const proof = await verifyDpopProof(out.proof);
    expect(out.header.alg).toBe('EdDSA');
    expect(out.claims.htm).toBe('GET');
    expect(out.jkt).toBe(proof.jkt);
  });

  it('exits 2 without --htm or with an htu that is not a URL', async () => {
    const missing = await runCli(['dpop-proof', '--htu', 'https://a.example.test/']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--htm is required');
    const bad = await runCli(['dpop-proof', '--htm', 'GET', '--htu', 'orders/1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      's2s-auth dpop-proof: buildDpopProof: `htu` must be an absolute http(s) URL',
    );
  });

  it('refuses a public key as the signing key', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const path = await files.write('public.json', JSON.stringify(await exportJWK(publicKey)));
    const result = await runCli([
      'dpop-proof',
      '--htm',
      'GET',
      '--htu',
      'https://a.example.test/',
      '--key',
      path,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      's2s-auth dpop-proof: the DPoP key is not a private key (no "d")',
    );
  });
});
