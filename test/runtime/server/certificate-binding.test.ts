import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenError } from '../../../src/runtime/token-error.js';
import {
  boundThumbprint,
  certificateDer,
  certificateThumbprint,
  checkCertificateBinding,
  clientCertificateFromHeader,
  isDerSequence,
} from '../../../src/runtime/server/certificate-binding.js';
import { toTokenError, type ChallengeContext } from '../../../src/runtime/server/rejection.js';
import { createTestPki, type TestPki } from '../../support/mtls.js';
import { optionErrorOf } from '../../support/caught.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki?.remove());

const bearer: ChallengeContext = {
  scheme: 'Bearer',
  offered: ['Bearer'],
  realm: undefined,
  dpopAlgs: 'ES256 EdDSA',
};

/** What `verifyRequest` would throw for a failure of `run`. */
async function tokenErrorOf(run: () => unknown): Promise<TokenError> {
  try {
    await run();
  } catch (failure) {
    return toTokenError(failure, bearer);
  }
  throw new Error('expected a rejection');
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bound = (thumbprint: string) => ({ cnf: { 'x5t#S256': thumbprint } });

describe('certificateThumbprint', () => {
  it('is base64url(SHA-256(DER)) for DER bytes, an ArrayBuffer, PEM and an X509Certificate alike', async () => {
    const { der, cert, thumbprint } = pki.client;
    const forms = [
      der,
      der.slice().buffer,
      cert,
      cert.replace(/\n/g, '\r\n'),
      new X509Certificate(cert),
      { raw: Buffer.from(der) },
    ];
    for (const form of forms) expect(await certificateThumbprint(form)).toBe(thumbprint);
  });

  it('differs between two certificates of the same CA', async () => {
    expect(await certificateThumbprint(pki.otherClient.cert)).toBe(pki.otherClient.thumbprint);
    expect(pki.otherClient.thumbprint).not.toBe(pki.client.thumbprint);
  });
});

describe('certificateDer', () => {
  it('refuses a PEM chain: one certificate is expected, not several', () => {
    const error = optionErrorOf(() => certificateDer(`${pki.client.cert}${pki.ca.cert}`));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.option).toBe('clientCertificate');
    expect(error.message).toMatch(/not exactly one CERTIFICATE block/);
  });

  it('refuses a private key in place of a certificate, without quoting it', () => {
    const error = optionErrorOf(() => certificateDer(pki.client.key));
    expect(error.option).toBe('clientCertificate');
    expect(error.message).toMatch(/a string that is not PEM/);
    const keyBody = pki.client.key.split('\n')[1]!;
    expect(error.message).not.toContain(keyBody.slice(0, 16));
    expect(JSON.stringify(error)).not.toContain(keyBody.slice(0, 16));
  });

  it('refuses a PEM block whose body is not base64', () => {
    const broken = pki.client.cert.replace(/\n([A-Za-z0-9+/]{8})/, '\n$1%%');
    const error = optionErrorOf(() => certificateDer(broken));
    expect(error.message).toMatch(/the PEM block is not valid base64/);
  });

  it('refuses a PEM block whose base64 decodes to something that is not a certificate', () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${btoa('hello, world')}\n-----END CERTIFICATE-----\n`;
    expect(optionErrorOf(() => certificateDer(pem)).message).toMatch(/not one DER-encoded/);
  });

  it('refuses PEM text handed over as bytes', () => {
    const error = optionErrorOf(() => certificateDer(new TextEncoder().encode(pki.client.cert)));
    expect(error.message).toMatch(/not one DER-encoded certificate/);
  });

  it('refuses a truncated certificate and one with bytes after it', () => {
    const { der } = pki.client;
    expect(optionErrorOf(() => certificateDer(der.subarray(0, der.length - 1))).code).toBe(
      'ERR_INVALID_OPTION',
    );
    const longer = new Uint8Array(der.length + 1);
    longer.set(der);
    expect(optionErrorOf(() => certificateDer(longer)).option).toBe('clientCertificate');
  });

  it('refuses values of other types, naming the type found', () => {
    for (const [value, found] of [
      [42, 'a number'],
      [null, 'null'],
      [{ raw: 'not bytes' }, 'an object'],
      [[1, 2], 'an array'],
    ] as const) {
      const error = optionErrorOf(() => certificateDer(value as never));
      expect(error.message).toContain(`found ${found}`);
    }
  });
});

describe('isDerSequence', () => {
  it('holds DER to its shortest length form and refuses BER indefinite lengths', () => {
    expect(isDerSequence(Uint8Array.of(0x30, 0x01, 0x05))).toBe(true);
    expect(isDerSequence(Uint8Array.of(0x30, 0x81, 0x01, 0x05))).toBe(false);
    expect(isDerSequence(Uint8Array.of(0x30, 0x80, 0x05, 0x00, 0x00))).toBe(false);
    expect(isDerSequence(Uint8Array.of(0x31, 0x01, 0x05))).toBe(false);
    expect(isDerSequence(Uint8Array.of(0x30))).toBe(false);
    expect(isDerSequence(pki.client.der)).toBe(true);
  });
});

describe('boundThumbprint', () => {
  it('is undefined for a token with no certificate binding', () => {
    expect(boundThumbprint({})).toBeUndefined();
    expect(boundThumbprint({ cnf: { jkt: 'abc' } })).toBeUndefined();
  });

  it('refuses a binding it cannot read rather than treat the token as unbound', async () => {
    for (const value of [42, '', 'short', `${'A'.repeat(43)}=`, 'A'.repeat(42) + '+', null]) {
      const error = await tokenErrorOf(() => boundThumbprint({ cnf: { 'x5t#S256': value } }));
      expect(error).toBeInstanceOf(TokenError);
      expect(error.reason).toBe('claims');
      expect(error.claim).toBe('cnf');
      expect(error.status).toBe(401);
    }
  });
});

describe('checkCertificateBinding', () => {
  it('accepts a bound token with the certificate it is bound to, in any form', async () => {
    for (const form of [pki.client.der, pki.client.cert, new X509Certificate(pki.client.cert)]) {
      await expect(
        checkCertificateBinding(bound(pki.client.thumbprint), form),
      ).resolves.toBeUndefined();
    }
  });

  it('accepts a token that is not bound, with or without a certificate', async () => {
    await expect(checkCertificateBinding({}, undefined)).resolves.toBeUndefined();
    await expect(checkCertificateBinding({ cnf: {} }, pki.client.der)).resolves.toBeUndefined();
  });

  it('refuses a bound token on a request without a certificate: 401 invalid_token, reason certificate', async () => {
    const error = await tokenErrorOf(() =>
      checkCertificateBinding(bound(pki.client.thumbprint), undefined),
    );
    expect(error).toBeInstanceOf(TokenError);
    expect(error.reason).toBe('certificate');
    expect(error.status).toBe(401);
    expect(error.error).toBe('invalid_token');
    expect(error.wwwAuthenticate).toBe(
      'Bearer error="invalid_token", error_description="the token is bound to a client certificate"',
    );
    expect(error.detail).toBe('the request came without a client certificate');
  });

  it('refuses a bound token with another certificate of the same CA, naming both thumbprints in the detail only', async () => {
    const error = await tokenErrorOf(() =>
      checkCertificateBinding(bound(pki.client.thumbprint), pki.otherClient.der),
    );
    expect(error.reason).toBe('certificate');
    expect(error.status).toBe(401);
    expect(error.detail).toContain(pki.otherClient.thumbprint);
    expect(error.detail).toContain(pki.client.thumbprint);
    expect(error.wwwAuthenticate).not.toContain(pki.client.thumbprint);
    expect(error.errorDescription).not.toContain(pki.client.thumbprint);
  });

  it('refuses a bound token with a self-signed certificate for the same name', async () => {
    const error = await tokenErrorOf(() =>
      checkCertificateBinding(bound(pki.client.thumbprint), pki.selfSigned.cert),
    );
    expect(error.reason).toBe('certificate');
  });

  it('refuses a thumbprint that differs in its last character only', async () => {
    const { thumbprint } = pki.client;
    const last = thumbprint.at(-1) === 'A' ? 'B' : 'A';
    const error = await tokenErrorOf(() =>
      checkCertificateBinding(bound(`${thumbprint.slice(0, -1)}${last}`), pki.client.der),
    );
    expect(error.reason).toBe('certificate');
  });

  it('refuses a thumbprint of the certificate in another encoding (hex, base64 with padding)', async () => {
    const hex = Buffer.from(pki.client.thumbprint, 'base64url').toString('hex');
    const padded = Buffer.from(pki.client.thumbprint, 'base64url').toString('base64');
    for (const value of [hex, padded]) {
      const error = await tokenErrorOf(() => checkCertificateBinding(bound(value), pki.client.der));
      expect(error.reason).toBe('claims');
    }
  });
});

describe('clientCertificateFromHeader (RFC 9440 Client-Cert)', () => {
  it('is undefined when the proxy sent no header', () => {
    expect(clientCertificateFromHeader(undefined)).toBeUndefined();
    expect(clientCertificateFromHeader(null)).toBeUndefined();
    expect(clientCertificateFromHeader([])).toBeUndefined();
  });

  it('reads the DER of a byte sequence, with surrounding whitespace and parameters', async () => {
    const encoded = base64(pki.client.der);
    for (const header of [
      `:${encoded}:`,
      ` \t:${encoded}: `,
      `:${encoded}:;proxy=edge-1`,
      `:${encoded}:;a;b="x;y"`,
      [`:${encoded}:`],
    ]) {
      const der = clientCertificateFromHeader(header);
      expect(der).toEqual(pki.client.der);
      expect(await certificateThumbprint(der!)).toBe(pki.client.thumbprint);
    }
  });

  it('reads a byte sequence without base64 padding', () => {
    const encoded = base64(pki.client.der).replace(/=+$/, '');
    expect(clientCertificateFromHeader(`:${encoded}:`)).toEqual(pki.client.der);
  });

  it.each([
    ['bare base64 without the colons', (b: string) => b],
    ['a PEM certificate', () => pki.client.cert.replace(/\n/g, ' ')],
    ['a list of two', (b: string) => `:${b}:, :${b}:`],
    [
      'base64url instead of base64',
      (b: string) => `:${b.replace(/\+/g, '-').replace(/\//g, '_')}:`,
    ],
    ['whitespace inside the colons', (b: string) => `:${b.slice(0, 20)} ${b.slice(20)}:`],
    ['text after the byte sequence', (b: string) => `:${b}:garbage`],
    ['an empty byte sequence', () => '::'],
    ['bytes that are not a certificate', () => `:${btoa('hello, world')}:`],
    ['a truncated certificate', (b: string) => `:${b.slice(0, -8)}:`],
  ])('refuses %s (reason certificate, 401)', async (_what, make) => {
    const header = make(base64(pki.client.der));
    const error = await tokenErrorOf(() => clientCertificateFromHeader(header));
    expect(error).toBeInstanceOf(TokenError);
    expect(error.reason).toBe('certificate');
    expect(error.status).toBe(401);
    expect(error.detail).toMatch(
      /^the Client-Cert header must be one structured-field byte sequence/,
    );
  });

  it('refuses two Client-Cert header lines', async () => {
    const line = `:${base64(pki.client.der)}:`;
    const error = await tokenErrorOf(() => clientCertificateFromHeader([line, line]));
    expect(error.reason).toBe('certificate');
    expect(error.detail).toContain('found 2 header lines');
  });
});
