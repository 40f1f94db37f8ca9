/**
 * The JWT and DPoP attack catalogue (RFC 8725 §2 and §3, RFC 9449 §11): every known way to
 * make a verifier accept what it must not, as a named case. Each must end in a TokenError with
 * the expected reason, and nothing in a token's header may ever be fetched.
 */
import { createPublicKey } from 'node:crypto';
import { exportSPKI } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenError, type TokenErrorReason } from '../../../src/index.js';
import { encodeBase64url as base64url } from '../../../src/runtime/crypto/backend.js';
import {
  claimsOf,
  AUDIENCE,
  ISSUER,
  JWKS_URI,
  RESOURCE_URL,
  accessClaims,
  accessHeader,
  accessToken,
  dpopProof,
  encodePart,
  hmacJws,
  makeDpopKey,
  makeKey,
  request,
  setup,
  signJws,
  signParts,
  type DpopKey,
  type Setup,
  type TestKey,
} from './helpers.js';

let s: Setup;
let ec: TestKey;
let rsa: TestKey;
let attacker: TestKey;

beforeAll(async () => {
  ec = await makeKey('ES256', 'ec-1');
  rsa = await makeKey('RS256', 'rsa-1');
  attacker = await makeKey('ES256', 'attacker');
  s = await setup({}, { key: ec, published: [ec.jwk, rsa.jwk] });
  // Warm the key set so the cases below count only the fetches they cause.
  await s.server.verifyToken(await accessToken(ec, s.now()));
});

async function rejectedWith(
  token: string,
  reasons: TokenErrorReason | TokenErrorReason[],
): Promise<TokenError> {
  const error = await s.server.verifyToken(token).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error, 'the token was accepted').toBeInstanceOf(TokenError);
  const tokenError = error as TokenError;
  expect([reasons].flat()).toContain(tokenError.reason);
  expect(tokenError.status).toBe(401);
  expect(tokenError.wwwAuthenticate).toMatch(
    /^Bearer error="invalid_token", error_description="[ -~]+"$/,
  );
  return tokenError;
}

/** A token whose header and payload are given exactly, with a real signature by `key`. */
async function signedWith(
  key: TestKey,
  header: Record<string, unknown> | string,
  claims?: Record<string, unknown> | string,
) {
  return signJws(header, claims ?? accessClaims(s.now()), key.privateKey, key.alg);
}

describe('alg none', () => {
  const spellings: unknown[] = [
    'none',
    'None',
    'NONE',
    'nOnE',
    ' none',
    'none ',
    'none\u0000',
    '',
    null,
    0,
    ['none'],
    { none: true },
  ];

  it.each(spellings.map((alg) => [JSON.stringify(alg), alg]))(
    'alg %s without a signature',
    async (_name, alg) => {
      const unsigned = `${encodePart({ ...accessHeader(ec), alg })}.${encodePart(accessClaims(s.now()))}.`;
      await rejectedWith(unsigned, 'malformed');
    },
  );

  it.each(spellings.map((alg) => [JSON.stringify(alg), alg]))(
    'alg %s with a signature',
    async (_name, alg) => {
      const withSignature = `${encodePart({ ...accessHeader(ec), alg })}.${encodePart(accessClaims(s.now()))}.AAAA`;
      await rejectedWith(withSignature, 'algorithm');
    },
  );

  it('no alg at all', async () => {
    await rejectedWith(await signedWith(ec, accessHeader(ec, { alg: undefined })), 'algorithm');
  });

  it('an unsecured JWT with two parts', async () => {
    await rejectedWith(
      `${encodePart({ alg: 'none', typ: 'at+jwt' })}.${encodePart(accessClaims(s.now()))}`,
      'malformed',
    );
  });
});

describe('HMAC keyed with the public key (algorithm confusion)', () => {
  async function encodings(key: TestKey): Promise<[string, Uint8Array][]> {
    const text = (value: string) => new TextEncoder().encode(value);
    const pem = await exportSPKI(key.publicKey);
    const der = new Uint8Array(createPublicKey(pem).export({ type: 'spki', format: 'der' }));
    const list: [string, Uint8Array][] = [
      ['SPKI PEM', text(pem)],
      ['SPKI PEM without the final newline', text(pem.trimEnd())],
      ['SPKI PEM with CRLF line ends', text(pem.replace(/\n/g, '\r\n'))],
      ['SPKI DER', der],
      ['SPKI DER as base64', text(Buffer.from(der).toString('base64'))],
      ['JWK JSON as published', text(JSON.stringify(key.jwk))],
      [
        'JWK JSON without kid, alg and use',
        text(JSON.stringify({ ...key.jwk, kid: undefined, alg: undefined, use: undefined })),
      ],
    ];
    if (key.jwk.kty === 'RSA') {
      const pkcs1 = createPublicKey(pem).export({ type: 'pkcs1', format: 'pem' }) as string;
      list.push(
        ['PKCS#1 PEM', text(pkcs1)],
        [
          'PKCS#1 DER',
          new Uint8Array(createPublicKey(pem).export({ type: 'pkcs1', format: 'der' })),
        ],
        ['n bytes', new Uint8Array(Buffer.from(key.jwk.n!, 'base64url'))],
        ['n as base64url text', text(key.jwk.n!)],
      );
    } else {
      list.push(
        ['x bytes', new Uint8Array(Buffer.from(key.jwk.x!, 'base64url'))],
        [
          'x || y bytes',
          new Uint8Array([
            ...Buffer.from(key.jwk.x!, 'base64url'),
            ...Buffer.from(key.jwk.y!, 'base64url'),
          ]),
        ],
      );
    }
    return list;
  }

  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    for (const which of ['rsa', 'ec'] as const) {
      it(`${alg} keyed with the ${which.toUpperCase()} public key in every encoding`, async () => {
        const key = which === 'rsa' ? rsa : ec;
        for (const [name, secret] of await encodings(key)) {
          const token = await hmacJws(
            accessHeader(key, { alg }),
            accessClaims(s.now()),
            secret,
            alg,
          );
          const error = await rejectedWith(token, 'algorithm');
          expect(error.reason, name).toBe('algorithm');
        }
      });
    }
  }

  it('HS256 cannot be switched on through the options', async () => {
    await expect(setup({ algorithms: ['HS256' as never] })).rejects.toBeInstanceOf(TypeError);
  });
});

describe('keys', () => {
  it('a foreign key under an existing kid', async () => {
    const impostor = await makeKey('ES256', ec.kid);
    await rejectedWith(await accessToken(impostor, s.now()), 'signature');
  });

  it('an RSA key under the EC key kid', async () => {
    const impostor = await makeKey('RS256', ec.kid);
    await rejectedWith(await accessToken(impostor, s.now()), 'key');
  });

  it('an unknown kid', async () => {
    await rejectedWith(await accessToken(attacker, s.now()), 'key');
  });

  it('a kid that is not a string', async () => {
    for (const kid of [1, ['ec-1'], { kid: 'ec-1' }, '']) {
      await rejectedWith(await accessToken(ec, s.now(), {}, { kid }), 'malformed');
    }
  });

  it('a kid that names an inherited property', async () => {
    for (const kid of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      await rejectedWith(await accessToken(attacker, s.now(), {}, { kid }), 'key');
    }
  });

  it('a signature from the right key over other content', async () => {
    const genuine = await accessToken(ec, s.now(), { scope: 'orders:read' });
    const forged = await accessToken(ec, s.now(), { scope: 'orders:admin' });
    const [header, payload] = forged.split('.');
    await rejectedWith(`${header}.${payload}.${genuine.split('.')[2]}`, 'signature');
  });
});

describe('key material in the token header is never fetched nor trusted', () => {
  async function spki(key: TestKey): Promise<string> {
    const pem = await exportSPKI(key.publicKey);
    return Buffer.from(createPublicKey(pem).export({ type: 'spki', format: 'der' })).toString(
      'base64',
    );
  }

  const cases: [string, () => Promise<Record<string, unknown>>][] = [
    ['embedded jwk without kid', async () => ({ kid: undefined, jwk: attacker.jwk })],
    ['embedded jwk with the issuer kid', async () => ({ jwk: attacker.jwk })],
    [
      'jku pointing elsewhere',
      async () => ({ kid: 'attacker', jku: 'https://evil.example.test/jwks' }),
    ],
    [
      'jku pointing elsewhere with the issuer kid',
      async () => ({ jku: 'https://evil.example.test/jwks' }),
    ],
    ['x5u pointing elsewhere', async () => ({ x5u: 'https://evil.example.test/cert.pem' })],
    ['x5c carrying the attacker key', async () => ({ x5c: [await spki(attacker)] })],
    ['x5c without kid', async () => ({ kid: undefined, x5c: [await spki(attacker)] })],
  ];

  it.each(cases)('%s', async (_name, extra) => {
    const before = s.idp.urls.length;
    const header = accessHeader(ec, await extra());
    const token = await signJws(header, accessClaims(s.now()), attacker.privateKey, 'ES256');
    await rejectedWith(token, ['signature', 'key']);
    expect(s.idp.urls.slice(before).every((url) => url === JWKS_URI)).toBe(true);
  });
});

describe('JWS extensions', () => {
  it('an unknown crit', async () => {
    await rejectedWith(
      await signedWith(ec, accessHeader(ec, { crit: ['urn:example:ext'], 'urn:example:ext': 1 })),
      'malformed',
    );
  });

  it('an empty crit', async () => {
    await rejectedWith(await signedWith(ec, accessHeader(ec, { crit: [] })), 'malformed');
  });

  it('b64: false with crit', async () => {
    const header = encodePart(accessHeader(ec, { b64: false, crit: ['b64'] }));
    const payload = JSON.stringify(accessClaims(s.now()));
    const signed = await signParts(header, payload, ec.privateKey, 'ES256');
    await rejectedWith(signed, 'malformed');
  });

  it('b64: false without crit', async () => {
    await rejectedWith(await signedWith(ec, accessHeader(ec, { b64: false })), 'malformed');
  });

  it('b64: true', async () => {
    await rejectedWith(await signedWith(ec, accessHeader(ec, { b64: true })), 'malformed');
  });
});

describe('encoding', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

  /** The same bytes spelled with stray bits in the last character, as lenient decoders allow. */
  function alias(part: string): string {
    expect(part.length % 4).not.toBe(0);
    return `${part.slice(0, -1)}${alphabet[alphabet.indexOf(part.at(-1)!) + 1]}`;
  }

  /** JSON text padded with spaces until its encoding has a partial last group. */
  function unaligned(value: Record<string, unknown>): string {
    let json = JSON.stringify(value);
    while (base64url(json).length % 4 === 0) json += ' ';
    return base64url(json);
  }

  it('a non-canonical last character in the signature', async () => {
    // ES256 signatures are 64 bytes: 86 characters, the last carrying 4 unused bits.
    const token = await accessToken(ec, s.now());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    expect(Buffer.from(alias(signature), 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    await rejectedWith(`${header}.${payload}.${alias(signature)}`, 'malformed');
  });

  it('a non-canonical header, signed as it is', async () => {
    const header = alias(unaligned(accessHeader(ec)));
    await rejectedWith(
      await signParts(header, encodePart(accessClaims(s.now())), ec.privateKey, 'ES256'),
      'malformed',
    );
  });

  it('a non-canonical payload, signed as it is', async () => {
    const payload = alias(unaligned(accessClaims(s.now())));
    await rejectedWith(
      await signParts(encodePart(accessHeader(ec)), payload, ec.privateKey, 'ES256'),
      'malformed',
    );
  });

  it('padding', async () => {
    const token = await accessToken(ec, s.now());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    await rejectedWith(`${header}=.${payload}.${signature}`, 'malformed');
    await rejectedWith(`${header}.${payload}.${signature}==`, 'malformed');
  });

  it('the standard base64 alphabet', async () => {
    let token = await accessToken(ec, s.now());
    while (!/[-_]/.test(token)) token = await accessToken(ec, s.now());
    const standard = token.replace(/-/g, '+').replace(/_/g, '/');
    await rejectedWith(standard, 'malformed');
  });

  it('whitespace inside the token', async () => {
    const token = await accessToken(ec, s.now());
    for (const spaced of [` ${token}`, `${token}\n`, `${token.slice(0, 10)} ${token.slice(10)}`]) {
      await rejectedWith(spaced, 'malformed');
    }
  });

  it('a header that is not UTF-8', async () => {
    const header = base64url(
      new Uint8Array([
        ...new TextEncoder().encode('{"alg":"ES256","typ":"at+jwt","kid":"'),
        0xc3,
        0x28,
        0x22,
        0x7d,
      ]),
    );
    await rejectedWith(
      await signParts(header, encodePart(accessClaims(s.now())), ec.privateKey, 'ES256'),
      'malformed',
    );
  });
});

describe('duplicate and oversized parts', () => {
  it('four and five parts', async () => {
    const token = await accessToken(ec, s.now());
    const [, payload, signature] = token.split('.') as [string, string, string];
    await rejectedWith(`${token}.${signature}`, 'malformed');
    await rejectedWith(`${token}.${payload}.${signature}`, 'malformed');
  });

  it('a duplicate alg in the header, either order', async () => {
    const claims = JSON.stringify(accessClaims(s.now()));
    await rejectedWith(
      await signedWith(ec, `{"alg":"none","typ":"at+jwt","kid":"ec-1","alg":"ES256"}`, claims),
      'malformed',
    );
    await rejectedWith(
      await signedWith(ec, `{"alg":"ES256","typ":"at+jwt","kid":"ec-1","alg":"HS256"}`, claims),
      'malformed',
    );
  });

  it('a duplicate kid or typ in the header', async () => {
    await rejectedWith(
      await signedWith(ec, `{"alg":"ES256","typ":"at+jwt","kid":"attacker","kid":"ec-1"}`),
      'malformed',
    );
    await rejectedWith(
      await signedWith(ec, `{"alg":"ES256","typ":"JWT","typ":"at+jwt","kid":"ec-1"}`),
      'malformed',
    );
  });

  it('a duplicate claim in a genuinely signed payload', async () => {
    const claims = accessClaims(s.now());
    const json = JSON.stringify(claims).replace(/}$/, `,"exp":${s.now() + 10 ** 9}}`);
    await rejectedWith(await signedWith(ec, accessHeader(ec), json), 'malformed');
    const escaped = JSON.stringify(claims).replace(
      /}$/,
      `,"\\u0061ud":"https://evil.example.test"}`,
    );
    await rejectedWith(await signedWith(ec, accessHeader(ec), escaped), 'malformed');
  });

  it('an oversized token is refused before it is parsed', async () => {
    // The payload is not even valid base64url: only the length check can have refused it.
    const huge = `${encodePart(accessHeader(ec))}.${'!'.repeat(2_000_000)}.AAAA`;
    const error = await rejectedWith(huge, 'malformed');
    expect(error.message).toContain('too long');
  });

  it('an oversized header', async () => {
    await rejectedWith(
      await signedWith(ec, accessHeader(ec, { pad: 'x'.repeat(20_000) })),
      'malformed',
    );
  });
});

describe('claims', () => {
  it.each([
    ['exp as a string', { exp: String(Math.floor(Date.now() / 1000) + 300) }],
    ['exp as null', { exp: null }],
    ['exp as a boolean', { exp: true }],
    ['exp as an array', { exp: [9_999_999_999] }],
    ['exp as a huge exponent string', { exp: '1e400' }],
    ['aud as a number', { aud: 42 }],
    ['aud as an array holding a number', { aud: [AUDIENCE, 42] }],
    ['aud as an object', { aud: { 0: AUDIENCE } }],
    ['iss as an array', { iss: [ISSUER] }],
    ['nbf as a string', { nbf: '0' }],
    ['iat as a string', { iat: '0' }],
    ['sub as a number', { sub: 1 }],
    ['client_id as an object', { client_id: {} }],
    ['scope as an array with a number', { scope: ['orders:read', 1] }],
    ['scope as an object', { scope: { 'orders:read': true } }],
    ['jti as a number', { jti: 1 }],
    ['cnf as a string', { cnf: 'jkt' }],
    ['cnf.jkt as a number', { cnf: { jkt: 1 } }],
  ])('%s', async (_name, claims) => {
    await rejectedWith(await accessToken(ec, s.now(), claims), 'claims');
  });

  it('missing exp', async () => {
    await rejectedWith(await accessToken(ec, s.now(), { exp: undefined }), 'claims');
  });

  it('a payload that is not an object', async () => {
    for (const payload of ['[]', '"claims"', '42', 'null']) {
      await rejectedWith(await signedWith(ec, accessHeader(ec), payload), 'malformed');
    }
  });
});

describe('tokens of another type', () => {
  it('a DPoP proof presented as an access token', async () => {
    const dpopKey = await makeDpopKey();
    await rejectedWith(await dpopProof(dpopKey, s.now()), 'type');
  });

  it('a DPoP-typed JWT signed by the issuer key', async () => {
    await rejectedWith(await accessToken(ec, s.now(), {}, { typ: 'dpop+jwt' }), 'type');
  });

  it('an ID token from the same issuer', async () => {
    const idToken = await signedWith(
      ec,
      { alg: 'ES256', kid: ec.kid, typ: 'JWT' },
      {
        iss: ISSUER,
        // eslint-disable-next-line @typescript-eslint/no-deprecated -- the JWT claim, not String.prototype.sub
        sub: 'user-1',
        aud: 'orders-worker',
        exp: s.now() + 300,
        iat: s.now(),
        nonce: 'n',
        auth_time: s.now(),
      },
    );
    await rejectedWith(idToken, 'type');
    const noTyp = await signedWith(
      ec,
      { alg: 'ES256', kid: ec.kid },
      { iss: ISSUER, aud: 'orders-worker', exp: s.now() + 300 },
    );
    await rejectedWith(noTyp, 'type');
  });

  it('an ID token when typ checking is off is still refused for its audience', async () => {
    const relaxed = await setup({ typ: false }, { key: ec });
    const idToken = await signedWith(
      ec,
      { alg: 'ES256', kid: ec.kid, typ: 'JWT' },
      {
        iss: ISSUER,
        // eslint-disable-next-line @typescript-eslint/no-deprecated -- the JWT claim, not String.prototype.sub
        sub: 'user-1',
        aud: 'orders-worker',
        exp: relaxed.now() + 300,
      },
    );
    await expect(relaxed.server.verifyToken(idToken)).rejects.toMatchObject({ reason: 'audience' });
  });
});

describe('another issuer', () => {
  it('a token from another issuer whose key shares a kid', async () => {
    const other = await makeKey('ES256', ec.kid);
    const before = s.idp.jwksRequests();
    await rejectedWith(
      await accessToken(other, s.now(), { iss: 'https://other-idp.example.test' }),
      'issuer',
    );
    expect(s.idp.jwksRequests()).toBe(before);
  });

  it('the same token claiming our issuer', async () => {
    const other = await makeKey('ES256', ec.kid);
    await rejectedWith(await accessToken(other, s.now()), 'signature');
  });
});

describe('expiry', () => {
  it('an expired token inside the tolerance is accepted', async () => {
    const signed = await accessToken(ec, s.now(), { exp: s.now() - 29 });
    await expect(s.server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
  });

  it('an expired token outside the tolerance', async () => {
    await rejectedWith(await accessToken(ec, s.now(), { exp: s.now() - 30 }), 'expired');
    await rejectedWith(await accessToken(ec, s.now(), { exp: 0 }), 'expired');
  });

  it('an expiry beyond any date', async () => {
    const signed = await accessToken(ec, s.now(), { exp: 1e300 });
    await expect(s.server.verifyToken(signed)).resolves.toEqual(claimsOf(signed));
  });
});

describe('DPoP proofs', () => {
  let dpopKey: DpopKey;
  let token: string;

  beforeAll(async () => {
    dpopKey = await makeDpopKey();
    token = await accessToken(ec, s.now(), { cnf: { jkt: dpopKey.jkt } });
  });

  async function proofRejectedWith(
    proof: string,
    reason: TokenErrorReason,
    init: { method?: string; url?: string; token?: string } = {},
  ): Promise<TokenError> {
    const req = request({ authorization: `DPoP ${init.token ?? token}`, dpop: proof }, init);
    const error = await s.server.verifyRequest(req).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error, 'the proof was accepted').toBeInstanceOf(TokenError);
    expect((error as TokenError).reason).toBe(reason);
    expect((error as TokenError).status).toBe(401);
    expect((error as TokenError).wwwAuthenticate).toMatch(
      /^DPoP error="invalid_dpop_proof", error_description="[ -~]+", algs="[A-Za-z0-9 ]+"$/,
    );
    return error as TokenError;
  }

  it('a replayed proof', async () => {
    const proof = await dpopProof(dpopKey, s.now(), { accessToken: token });
    await s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: proof }));
    await proofRejectedWith(proof, 'dpop_replay');
  });

  it('a replayed jti in a new proof by the same key', async () => {
    const first = await dpopProof(dpopKey, s.now(), { accessToken: token, jti: 'same-jti' });
    await s.server.verifyRequest(request({ authorization: `DPoP ${token}`, dpop: first }));
    const second = await dpopProof(dpopKey, s.now() - 1, { accessToken: token, jti: 'same-jti' });
    await proofRejectedWith(second, 'dpop_replay');
  });

  it('a stale proof', async () => {
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), { accessToken: token, iat: s.now() - 61 }),
      'dpop',
    );
  });

  it('a proof from the future', async () => {
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), { accessToken: token, iat: s.now() + 31 }),
      'dpop',
    );
  });

  it('a proof for another method', async () => {
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), { accessToken: token, htm: 'POST' }),
      'dpop',
    );
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), { accessToken: token, htm: 'get' }),
      'dpop',
    );
  });

  it.each([
    ['another path', 'https://api.example.test/orders/43'],
    ['another host', 'https://evil.example.test/orders/42'],
    ['another port', 'https://api.example.test:8443/orders/42'],
    ['another scheme', 'http://api.example.test/orders/42'],
    ['a path differing in case', 'https://api.example.test/Orders/42'],
    ['a trailing slash', 'https://api.example.test/orders/42/'],
    ['a relative URL', '/orders/42'],
    ['user information', 'https://user@api.example.test/orders/42'],
  ])('a proof for %s', async (_name, htu) => {
    await proofRejectedWith(await dpopProof(dpopKey, s.now(), { accessToken: token, htu }), 'dpop');
  });

  it('a proof with the ath of another token', async () => {
    const other = await accessToken(ec, s.now(), { cnf: { jkt: dpopKey.jkt }, jti: 'other' });
    await proofRejectedWith(await dpopProof(dpopKey, s.now(), { accessToken: other }), 'dpop');
  });

  it('a proof without ath', async () => {
    await proofRejectedWith(await dpopProof(dpopKey, s.now()), 'dpop');
  });

  it('a stolen token with a valid proof by the thief key', async () => {
    const thief = await makeDpopKey();
    await proofRejectedWith(await dpopProof(thief, s.now(), { accessToken: token }), 'dpop');
  });

  it('a proof signed by another key than the one in its header', async () => {
    const other = await makeDpopKey();
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), { accessToken: token, signWith: other.privateKey }),
      'dpop',
    );
  });

  it('a private key in the proof header', async () => {
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), {
        accessToken: token,
        header: { jwk: dpopKey.privateJwk },
      }),
      'dpop',
    );
  });

  it('a symmetric key in the proof header', async () => {
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), {
        accessToken: token,
        header: { jwk: { kty: 'oct', k: 'c2VjcmV0' } },
      }),
      'dpop',
    );
  });

  it('a header key that does not suit the alg', async () => {
    const rsaKey = await makeDpopKey('RS256');
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), { accessToken: token, header: { jwk: rsaKey.publicJwk } }),
      'dpop',
    );
  });

  it('no key in the proof header', async () => {
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), {
        accessToken: token,
        header: { jwk: undefined, kid: 'x' },
      }),
      'dpop',
    );
  });

  it.each([['JWT'], ['at+jwt'], [undefined], ['dpop+jwt; charset=utf-8']])(
    'a proof with typ %s',
    async (typ) => {
      await proofRejectedWith(
        await dpopProof(dpopKey, s.now(), { accessToken: token, header: { typ } }),
        'dpop',
      );
    },
  );

  it('a proof with alg none or HS256', async () => {
    const header = { typ: 'dpop+jwt', alg: 'none', jwk: dpopKey.publicJwk };
    const claims = { jti: 'j', htm: 'GET', htu: RESOURCE_URL, iat: s.now() };
    await proofRejectedWith(`${encodePart(header)}.${encodePart(claims)}.AAAA`, 'dpop');
    const hs = await hmacJws(
      { ...header, alg: 'HS256' },
      claims,
      new TextEncoder().encode(JSON.stringify(dpopKey.publicJwk)),
      'HS256',
    );
    await proofRejectedWith(hs, 'dpop');
  });

  it.each([
    ['without jti', { jti: undefined }],
    ['with an empty jti', { jti: '' }],
    ['with a jti too long to store', { jti: 'j'.repeat(257) }],
    ['without htm', { htm: undefined }],
    ['without htu', { htu: undefined }],
    ['without iat', { iat: undefined }],
    ['with iat as a string', { iat: String(Math.floor(Date.now() / 1000)) }],
    ['with a numeric nonce', { nonce: 1 }],
  ])('a proof %s', async (_name, claims) => {
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), { accessToken: token, claims }),
      'dpop',
    );
  });

  it('a proof with crit', async () => {
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), { accessToken: token, header: { crit: ['x'], x: 1 } }),
      'dpop',
    );
  });

  it('a proof that is not a JWS', async () => {
    for (const proof of ['', 'x', 'a.b', 'a.b.c.d', `${'A'.repeat(9000)}.A.A`]) {
      await proofRejectedWith(proof, 'dpop');
    }
  });

  it('the access token itself as the proof', async () => {
    await proofRejectedWith(token, 'dpop');
  });

  it('a proof whose jwk carries key material from jku or x5c only', async () => {
    await proofRejectedWith(
      await dpopProof(dpopKey, s.now(), {
        accessToken: token,
        header: { jwk: undefined, jku: 'https://evil.example.test/jwks', x5c: ['AAAA'] },
      }),
      'dpop',
    );
  });
});

it('no case above made the server fetch anything but its own key set', () => {
  expect(new Set(s.idp.urls)).toEqual(new Set([JWKS_URI]));
});
