/**
 * The two crypto backends side by side: the WebCrypto one of the default build and the
 * `node:crypto` one of the build the `node` export condition picks. Same inputs, same answers;
 * a signature made by one verifies with the other.
 */
import { compactVerify, decodeProtectedHeader, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import * as webBackend from '../../../src/runtime/crypto/backend.js';
import * as nodeBackend from '../../../src/runtime/crypto/backend-node.js';
import { jwkThumbprint } from '../../../src/runtime/crypto/jwk.js';
import type { AsymmetricAlgorithm } from '../../../src/runtime/shared/keys.js';

// The Node backend must be a drop-in for the WebCrypto one: the same exports, the same types.
const sameShape: typeof webBackend = nodeBackend;

const backends = [
  ['webcrypto', webBackend],
  ['node', sameShape],
] as const;

const encoder = new TextEncoder();

it('the code under test uses the backend this run is meant for', () => {
  // The Node backend hashes synchronously; WebCrypto only ever answers with a promise. The
  // thumbprint is computed in src/, where the node:crypto pass swaps the backend.
  const answer = jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' });
  const expected = process.env.S2S_AUTH_CRYPTO_BACKEND ?? 'webcrypto';
  expect(typeof answer === 'string' ? 'node' : 'webcrypto').toBe(expected);
});

describe.each(backends)('the %s backend', (name, backend) => {
  it('names itself', () => {
    expect(backend.CRYPTO_BACKEND).toBe(name);
  });

  describe('base64url', () => {
    it('round-trips every length, from a slice of a string too', () => {
      for (let length = 0; length < 40; length++) {
        const bytes = crypto.getRandomValues(new Uint8Array(length));
        const text = backend.encodeBase64url(bytes);
        expect(text).toMatch(/^[\w-]*$/);
        expect(backend.decodeBase64url(`..${text}..`, 2, text.length + 2)).toEqual(bytes);
      }
    });

    it('encodes strings as UTF-8', () => {
      expect(backend.encodeBase64url('hé')).toBe('aMOp');
      expect(backend.decodeBase64urlText('aMOp')).toBe('hé');
    });

    it('refuses padding, the standard alphabet, whitespace, non-ASCII and a dangling character', () => {
      for (const bad of ['aGk=', 'a+b/', 'aGk ', 'aG\nk', 'aGké', 'a', 'aGkx=', '=aGk']) {
        expect(backend.decodeBase64url(bad), bad).toBeUndefined();
        expect(backend.decodeBase64urlText(bad), bad).toBeUndefined();
      }
    });

    it('refuses a last character whose unused bits are set', () => {
      expect(backend.decodeBase64urlText('aGk')).toBe('hi');
      for (const alias of ['aGl', 'aGm', 'aGn', 'aB']) {
        expect(backend.decodeBase64url(alias), alias).toBeUndefined();
      }
    });

    it('refuses text that is not UTF-8, and keeps a byte-order mark', () => {
      expect(
        backend.decodeBase64urlText(backend.encodeBase64url(new Uint8Array([0xff, 0x7b]))),
      ).toBeUndefined();
      // An encoded surrogate (CESU-8) and an overlong slash are not UTF-8 either.
      expect(
        backend.decodeBase64urlText(backend.encodeBase64url(new Uint8Array([0xed, 0xa0, 0x80]))),
      ).toBeUndefined();
      expect(
        backend.decodeBase64urlText(backend.encodeBase64url(new Uint8Array([0xc0, 0xaf]))),
      ).toBeUndefined();
      const bom = backend.decodeBase64urlText(
        backend.encodeBase64url(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])),
      );
      expect(bom).toBe('\ufeff{}');
    });
  });

  it('hands out random identifiers of the asked entropy, never the same twice', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(backend.randomBase64url(16));
    expect(seen.size).toBe(2000);
    for (const id of seen) expect(id).toMatch(/^[\w-]{22}$/);
    expect(backend.randomBase64url(32)).toMatch(/^[\w-]{43}$/);
    expect(backend.randomBase64url(5000)).toHaveLength(Math.ceil((5000 * 4) / 3));
  });

  it('hashes with SHA-256', async () => {
    expect(await backend.sha256Base64url('abc')).toBe(
      'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0',
    );
    expect(await backend.sha256Base64url('é')).toBe(await webBackend.sha256Base64url('é'));
  });
});

interface Pair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

describe('signatures', () => {
  const algorithms: AsymmetricAlgorithm[] = [
    'RS256',
    'PS256',
    'ES256',
    'ES384',
    'ES512',
    'EdDSA',
    'Ed25519',
    'RS512',
    'PS384',
  ];
  const pairs = new Map<AsymmetricAlgorithm, Pair>();
  let rs384: Pair;
  let rsa1024: Pair;

  beforeAll(async () => {
    for (const alg of algorithms) pairs.set(alg, await generateKeyPair(alg));
    rs384 = await generateKeyPair('RS384');
    const small = await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      false,
      ['sign', 'verify'],
    );
    rsa1024 = small;
  });

  async function jws(
    backend: typeof webBackend,
    alg: AsymmetricAlgorithm,
    key: CryptoKey,
  ): Promise<{ compact: string; end: number; signature: Uint8Array }> {
    const header = { alg };
    const compact = await backend.signCompact(
      alg,
      key,
      backend.encodeBase64url(JSON.stringify(header)),
      { n: 1 },
    );
    const end = compact.lastIndexOf('.');
    expect(compact.slice(0, compact.indexOf('.'))).toBe(
      backend.encodeBase64url(`{"alg":"${alg}"}`),
    );
    expect(backend.decodeBase64urlText(compact, compact.indexOf('.') + 1, end)).toBe('{"n":1}');
    return { compact, end, signature: backend.decodeBase64url(compact, end + 1) as Uint8Array };
  }

  describe.each(backends)('signed by the %s backend', (_signer, signer) => {
    it.each(backends)(
      'verify with the %s backend, and only unchanged',
      async (_verifier, verifier) => {
        for (const alg of algorithms) {
          const { privateKey, publicKey } = pairs.get(alg)!;
          const { compact, end, signature } = await jws(signer, alg, privateKey);
          expect(await verifier.verifySignature(alg, publicKey, compact, end, signature), alg).toBe(
            true,
          );
          const tampered = `${compact.slice(0, end - 1)}A${compact.slice(end)}`;
          expect(
            await verifier.verifySignature(alg, publicKey, tampered, end, signature),
            alg,
          ).toBe(false);
          const flipped = signature.slice();
          flipped[0] = flipped[0]! ^ 1;
          expect(await verifier.verifySignature(alg, publicKey, compact, end, flipped), alg).toBe(
            false,
          );
          expect(
            await verifier.verifySignature(alg, publicKey, compact, end, signature.subarray(1)),
            alg,
          ).toBe(false);
          expect(
            await verifier.verifySignature(alg, publicKey, compact, end, new Uint8Array(0)),
            alg,
          ).toBe(false);
          // The same integer with a zero byte in front is not the signature that was made.
          const padded = new Uint8Array(signature.length + 1);
          padded.set(signature, 1);
          expect(await verifier.verifySignature(alg, publicKey, compact, end, padded), alg).toBe(
            false,
          );
        }
      },
    );
  });

  describe.each(backends)('the %s backend signs every algorithm', (_signer, signer) => {
    const every: AsymmetricAlgorithm[] = [
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
      'ES256',
      'ES384',
      'ES512',
      'EdDSA',
      'Ed25519',
    ];

    it.each(every)('%s verifies with jose, header and payload as given', async (alg) => {
      const { privateKey, publicKey } = await generateKeyPair(alg);
      const header = { typ: 'JWT', alg, kid: 'k-1' };
      const payload = { iss: 'svc', n: 1, text: 'hé' };
      const compact = await signer.signCompact(
        alg,
        privateKey,
        signer.encodeBase64url(JSON.stringify(header)),
        payload,
      );
      const verified = await compactVerify(compact, publicKey, { algorithms: [alg] });
      expect(verified.protectedHeader).toEqual(header);
      expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual(payload);
      // The header segment is the caller's encoding, byte for byte.
      expect(compact.slice(0, compact.indexOf('.'))).toBe(
        signer.encodeBase64url(JSON.stringify(header)),
      );
      expect(decodeProtectedHeader(compact).alg).toBe(alg);
    });
  });

  it.each(backends)('%s: refuses keys that do not fit the algorithm', async (_name, backend) => {
    const rs256 = pairs.get('RS256')!;
    const { compact, end, signature } = await jws(backend, 'RS256', rs256.privateKey);
    // A key imported for RS384, the same RSA key under another algorithm, an EC key, a private key.
    const {
      compact: c384,
      end: e384,
      signature: s384,
    } = await jws(backend, 'RS384', rs384.privateKey);
    expect(await backend.verifySignature('RS256', rs384.publicKey, c384, e384, s384)).toBe(false);
    expect(await backend.verifySignature('PS256', rs256.publicKey, compact, end, signature)).toBe(
      false,
    );
    expect(await backend.verifySignature('ES256', rs256.publicKey, compact, end, signature)).toBe(
      false,
    );
    expect(await backend.verifySignature('RS256', rs256.privateKey, compact, end, signature)).toBe(
      false,
    );
    expect(
      await backend.verifySignature(
        'HS256' as AsymmetricAlgorithm,
        rs256.publicKey,
        compact,
        end,
        signature,
      ),
    ).toBe(false);
    const sign = (alg: AsymmetricAlgorithm, key: CryptoKey) => async () =>
      backend.signCompact(alg, key, backend.encodeBase64url(`{"alg":"${alg}"}`), {});
    await expect(sign('RS256', rs256.publicKey)).rejects.toThrow(TypeError);
    await expect(sign('ES256', rs256.privateKey)).rejects.toThrow(TypeError);
    await expect(sign('RS384', rs256.privateKey)).rejects.toThrow(TypeError);
    await expect(sign('PS256', rs256.privateKey)).rejects.toThrow(TypeError);
    await expect(sign('ES384', pairs.get('ES256')!.privateKey)).rejects.toThrow(TypeError);
    await expect(sign('EdDSA', pairs.get('ES256')!.privateKey)).rejects.toThrow(TypeError);
    await expect(sign('HS256' as AsymmetricAlgorithm, rs256.privateKey)).rejects.toThrow(TypeError);
  });

  it.each(backends)(
    '%s: refuses RSA keys under 2048 bits, to sign and to verify',
    async (_name, backend) => {
      const input = 'e30.e30';
      const signature = new Uint8Array(
        await crypto.subtle.sign(
          { name: 'RSASSA-PKCS1-v1_5' },
          rsa1024.privateKey,
          encoder.encode(input),
        ),
      );
      expect(
        await backend.verifySignature(
          'RS256',
          rsa1024.publicKey,
          `${input}.x`,
          input.length,
          signature,
        ),
      ).toBe(false);
      await expect(async () =>
        backend.signCompact('RS256', rsa1024.privateKey, 'eyJhbGciOiJSUzI1NiJ9', {}),
      ).rejects.toThrow(TypeError);
    },
  );
});
