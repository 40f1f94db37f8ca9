/**
 * JWKs into WebCrypto keys and RFC 7638 thumbprints, shared by both crypto backends (the
 * thumbprint hashes with whichever backend this run uses). jose serves as the independent
 * oracle.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AsymmetricAlgorithm } from '../../../src/runtime/crypto/algorithms.js';
import {
  hasPrivateMembers,
  importJwk,
  jwkThumbprint,
  publicJwk,
  thumbprintInput,
} from '../../../src/runtime/crypto/jwk.js';

const ALGORITHMS: AsymmetricAlgorithm[] = [
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

/** One key of each kind, and the algorithms it is meant for. */
const KINDS = {
  'RSA 2048': { make: 'RS256', fits: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] },
  'EC P-256': { make: 'ES256', fits: ['ES256'] },
  'EC P-384': { make: 'ES384', fits: ['ES384'] },
  'EC P-521': { make: 'ES512', fits: ['ES512'] },
  'OKP Ed25519': { make: 'EdDSA', fits: ['EdDSA', 'Ed25519'] },
} as const;
type Kind = keyof typeof KINDS;

const jwks = new Map<Kind, { privateJwk: JWK; publicJwk: JWK }>();
let rsa1024: { privateJwk: JWK; publicJwk: JWK };

beforeAll(async () => {
  for (const [kind, { make }] of Object.entries(KINDS) as [Kind, (typeof KINDS)[Kind]][]) {
    const pair = await generateKeyPair(make, { extractable: true });
    jwks.set(kind, {
      privateJwk: await exportJWK(pair.privateKey),
      publicJwk: await exportJWK(pair.publicKey),
    });
  }
  const small = await crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 1024,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  );
  rsa1024 = {
    privateJwk: await exportJWK(small.privateKey),
    publicJwk: await exportJWK(small.publicKey),
  };
});

function key(kind: Kind) {
  return jwks.get(kind) as { privateJwk: JWK; publicJwk: JWK };
}

/** Every string a JWK holds, so a test can prove none of them shows up in a message. */
function memberValues(jwk: JWK): string[] {
  return Object.values(jwk).filter(
    (value): value is string => typeof value === 'string' && value.length > 8,
  );
}

describe('RFC 7638 thumbprints', () => {
  it('match the example of RFC 7638 §3.1', async () => {
    const example = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    const jwk = publicJwk(example)!;
    expect(await jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('hash the required members only, in lexicographic order, without whitespace', () => {
    expect(thumbprintInput({ kty: 'RSA', n: 'nn', e: 'AQAB' })).toBe(
      '{"e":"AQAB","kty":"RSA","n":"nn"}',
    );
    expect(thumbprintInput({ kty: 'EC', x: 'xx', y: 'yy', crv: 'P-256' })).toBe(
      '{"crv":"P-256","kty":"EC","x":"xx","y":"yy"}',
    );
    expect(thumbprintInput({ kty: 'OKP', x: 'xx', crv: 'Ed25519' })).toBe(
      '{"crv":"Ed25519","kty":"OKP","x":"xx"}',
    );
  });

  it.each(Object.keys(KINDS) as Kind[])(
    'equal jose’s for an %s key, metadata ignored',
    async (kind) => {
      const { publicJwk: jwk } = key(kind);
      const withMetadata = {
        ...jwk,
        kid: 'k',
        alg: KINDS[kind].make,
        use: 'sig',
        key_ops: ['verify'],
      };
      expect(await jwkThumbprint(publicJwk(withMetadata)!)).toBe(
        await calculateJwkThumbprint(jwk, 'sha256'),
      );
    },
  );
});

describe('public members', () => {
  it('keep the key material only', () => {
    expect(publicJwk({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', kid: 'k', x5c: ['c'] })).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: 'a',
      y: 'b',
    });
  });

  it('are refused for private and symmetric keys, other key types and members that are not strings', () => {
    expect(publicJwk({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' })).toBeUndefined();
    expect(publicJwk({ kty: 'RSA', n: 'a', e: 'b', p: 'c' })).toBeUndefined();
    expect(publicJwk({ kty: 'oct', k: 'a' })).toBeUndefined();
    expect(publicJwk({ kty: 'EC', crv: 'P-256', x: 'a', y: 1 })).toBeUndefined();
    expect(publicJwk({ kty: 'OKP', crv: 'Ed25519', x: '' })).toBeUndefined();
    expect(publicJwk({ kty: '__proto__', x: 'a' })).toBeUndefined();
    // An inherited member is not a member.
    expect(
      publicJwk(
        Object.assign(Object.create({ y: 'b' }) as object, { kty: 'EC', crv: 'P-256', x: 'a' }),
      ),
    ).toBeUndefined();
  });

  it('treat a member set to undefined as absent, as workerd exports keys', () => {
    const exported = {
      kty: 'OKP',
      crv: 'Ed25519',
      x: 'a',
      d: undefined,
      k: undefined,
      oth: undefined,
    };
    expect(hasPrivateMembers(exported)).toBe(false);
    expect(publicJwk(exported)).toEqual({ kty: 'OKP', crv: 'Ed25519', x: 'a' });
    expect(hasPrivateMembers({ kty: 'OKP', d: '' })).toBe(true);
  });
});

describe('importJwk', () => {
  describe.each(Object.keys(KINDS) as Kind[])('an %s key', (kind) => {
    it.each(ALGORITHMS)(
      'is imported for %s only if the algorithm needs its kty and crv',
      async (alg) => {
        const { privateJwk, publicJwk: jwk } = key(kind);
        const fits = (KINDS[kind].fits as readonly string[]).includes(alg);
        const verifying = importJwk(jwk, alg, 'verify');
        const signing = importJwk(privateJwk, alg, 'sign');
        if (!fits) {
          await expect(verifying).rejects.toThrow(TypeError);
          await expect(signing).rejects.toThrow(TypeError);
          await expect(importJwk(jwk, alg, 'verify')).rejects.toThrow(
            `the JWK does not fit ${alg}`,
          );
          return;
        }
        const [publicKey, privateKey] = await Promise.all([verifying, signing]);
        expect(publicKey.type).toBe('public');
        expect(privateKey.type).toBe('private');
        expect(publicKey.usages).toEqual(['verify']);
        expect(privateKey.usages).toEqual(['sign']);
        expect(publicKey.extractable).toBe(false);
        expect(privateKey.extractable).toBe(false);
        const algorithm = publicKey.algorithm as { name: string; hash?: { name: string } };
        const bits = alg.slice(2);
        if (alg.startsWith('RS'))
          expect(algorithm).toMatchObject({
            name: 'RSASSA-PKCS1-v1_5',
            hash: { name: `SHA-${bits}` },
          });
        if (alg.startsWith('PS'))
          expect(algorithm).toMatchObject({ name: 'RSA-PSS', hash: { name: `SHA-${bits}` } });
      },
    );
  });

  it('refuses a private key to verify and a public key to sign', async () => {
    await expect(importJwk(key('EC P-256').privateJwk, 'ES256', 'verify')).rejects.toThrow(
      'the JWK is not a public key',
    );
    await expect(importJwk(key('EC P-256').publicJwk, 'ES256', 'sign')).rejects.toThrow(
      'the JWK is not a private key',
    );
  });

  it('refuses symmetric keys, other curves and unknown algorithms', async () => {
    const oct = { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' };
    for (const alg of ALGORITHMS) {
      await expect(importJwk(oct, alg, 'verify')).rejects.toThrow(TypeError);
      await expect(importJwk(oct, alg, 'sign')).rejects.toThrow(TypeError);
    }
    const { publicJwk: ed } = key('OKP Ed25519');
    await expect(importJwk({ ...ed, crv: 'Ed448' }, 'EdDSA', 'verify')).rejects.toThrow(TypeError);
    await expect(importJwk({ ...ed, crv: 'X25519' }, 'EdDSA', 'verify')).rejects.toThrow(TypeError);
    for (const alg of ['HS256', 'none', 'RS1', '__proto__']) {
      await expect(importJwk(oct, alg as AsymmetricAlgorithm, 'verify')).rejects.toThrow(TypeError);
    }
  });

  it('refuses a JWK whose alg, use or key_ops names something else', async () => {
    const { publicJwk: rsa } = key('RSA 2048');
    await expect(importJwk({ ...rsa, alg: 'RS256' }, 'PS256', 'verify')).rejects.toThrow('(`alg`)');
    await expect(importJwk({ ...rsa, alg: 'RS384' }, 'RS256', 'verify')).rejects.toThrow('(`alg`)');
    await expect(importJwk({ ...rsa, alg: 'RS256' }, 'RS256', 'verify')).resolves.toMatchObject({
      type: 'public',
      usages: ['verify'],
    });
    await expect(importJwk({ ...rsa, use: 'enc' }, 'RS256', 'verify')).rejects.toThrow('(`use`)');
    await expect(importJwk({ ...rsa, key_ops: ['encrypt'] }, 'RS256', 'verify')).rejects.toThrow(
      '(`key_ops`)',
    );
    await expect(importJwk({ ...rsa, key_ops: 'verify' }, 'RS256', 'verify')).rejects.toThrow(
      '(`key_ops`)',
    );
    await expect(
      importJwk({ ...rsa, use: 'sig', key_ops: ['verify'] }, 'RS256', 'verify'),
    ).resolves.toMatchObject({ type: 'public', usages: ['verify'] });
    // EdDSA and Ed25519 name one algorithm.
    const { publicJwk: ed } = key('OKP Ed25519');
    await expect(importJwk({ ...ed, alg: 'EdDSA' }, 'Ed25519', 'verify')).resolves.toMatchObject({
      type: 'public',
      usages: ['verify'],
    });
    await expect(importJwk({ ...ed, alg: 'Ed25519' }, 'EdDSA', 'verify')).resolves.toMatchObject({
      type: 'public',
      usages: ['verify'],
    });
  });

  it('refuses RSA keys under 2048 bits', async () => {
    await expect(importJwk(rsa1024.publicJwk, 'RS256', 'verify')).rejects.toThrow('2048 bits');
    await expect(importJwk(rsa1024.privateJwk, 'RS256', 'sign')).rejects.toThrow('2048 bits');
  });

  it('refuses members that are not strings, multi-prime keys and key material WebCrypto rejects', async () => {
    const { privateJwk, publicJwk: jwk } = key('EC P-256');
    await expect(importJwk({ ...jwk, x: 1 }, 'ES256', 'verify')).rejects.toThrow('not strings');
    await expect(importJwk({ ...privateJwk, d: 1 }, 'ES256', 'sign')).rejects.toThrow(TypeError);
    await expect(
      importJwk({ ...key('RSA 2048').privateJwk, oth: [] }, 'RS256', 'sign'),
    ).rejects.toThrow('`oth`');
    const bad = importJwk({ ...jwk, x: 'AAAA' }, 'ES256', 'verify');
    await expect(bad).rejects.toThrow('the JWK could not be imported');
    // The swapped coordinates of a valid key are no point on the curve.
    await expect(importJwk({ ...jwk, x: jwk.y, y: jwk.x }, 'ES256', 'verify')).rejects.toThrow(
      TypeError,
    );
  });

  it('accepts a key exported with undefined members, as workerd exports them', async () => {
    const { publicJwk: jwk } = key('OKP Ed25519');
    const exported = {
      ...jwk,
      d: undefined,
      p: undefined,
      use: undefined,
      key_ops: undefined,
      alg: undefined,
    };
    await expect(importJwk(exported, 'EdDSA', 'verify')).resolves.toMatchObject({
      type: 'public',
      usages: ['verify'],
    });
  });

  it('never puts key material into its messages', async () => {
    const attempts: [JWK, AsymmetricAlgorithm, 'sign' | 'verify'][] = [
      [key('RSA 2048').privateJwk, 'ES256', 'sign'],
      [key('RSA 2048').privateJwk, 'RS256', 'verify'],
      [{ ...key('EC P-256').privateJwk, x: 'AAAA' }, 'ES256', 'sign'],
      [{ ...key('OKP Ed25519').privateJwk, alg: 'RS256' }, 'EdDSA', 'sign'],
      [rsa1024.privateJwk, 'RS256', 'sign'],
    ];
    for (const [jwk, alg, usage] of attempts) {
      const error = await importJwk(jwk, alg, usage).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(TypeError);
      const text = `${String(error)} ${JSON.stringify(error)}`;
      for (const value of memberValues(jwk)) expect(text).not.toContain(value);
    }
  });
});
