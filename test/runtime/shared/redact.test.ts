/**
 * Redaction of text an authorization server sent back: every form a secret can take on the way
 * out and back (form encoding, URI encoding, base64 and base64url, inside a Basic credential,
 * JSON escaping) is scrubbed, control characters are neutralised and the length is capped.
 */
import { describe, expect, it } from 'vitest';
import { redact, secretForms } from '../../../src/runtime/shared/redact.js';
import { basicCredentials, formEncodeComponent } from '../../../src/runtime/shared/form.js';

/** A secret with every character that encodes differently somewhere. */
const secret = 'p+ss/w=rd%20 wïth spaçe€😀"\\';
const clientId = 'orders worker+1';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** Each encoding of the secret an echoing server might send back, by name. */
const encodings: [string, string][] = [
  ['raw', secret],
  ['form-encoded (RFC 6749 §2.3.1, + for space)', formEncodeComponent(secret)],
  ['form-encoded with lower-case hex', formEncodeComponent(secret).toLowerCase()],
  ['encodeURIComponent', encodeURIComponent(secret)],
  ['encodeURIComponent with lower-case hex', encodeURIComponent(secret).toLowerCase()],
  ['base64', b64(secret)],
  ['base64url', b64url(secret)],
  ['base64 of the form encoding', b64(formEncodeComponent(secret))],
  ['JSON-escaped', JSON.stringify(secret).slice(1, -1)],
  [
    'JSON-escaped to ASCII',
    JSON.stringify(secret)
      .slice(1, -1)
      .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  ],
  ['the Basic credential', basicCredentials(clientId, secret).slice('Basic '.length)],
  ['base64(id:secret) without form encoding', b64(`${clientId}:${secret}`)],
  ['base64url(id:secret)', b64url(`${clientId}:${secret}`)],
  ['id:secret form-encoded', `${formEncodeComponent(clientId)}:${formEncodeComponent(secret)}`],
];

describe('redact', () => {
  const forms = secretForms([{ user: clientId, password: secret }]);

  it.each(encodings)('removes the secret %s', (_name, encoded) => {
    const out = redact(`the server saw «${encoded}» and refused it`, forms, 10_000);
    expect(out).not.toContain(encoded);
    expect(out).toContain('[redacted]');
  });

  it('removes the secret inside a longer base64 value, at any offset', () => {
    for (const prefix of ['', 'a', 'ab', 'abc', 'authorization: Basic ']) {
      const echoed = b64(`${prefix}${secret}${prefix}`);
      const out = redact(echoed, [secret], 10_000);
      expect(
        Buffer.from(out.replace(/\[redacted\]/g, ''), 'base64').toString('utf8'),
      ).not.toContain(secret);
      expect(out).toContain('[redacted]');
    }
  });

  it('removes the signature of a JWT on its own, which would rebuild the token', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJzdmMifQ.c2lnbmF0dXJlLW9mLXRoZS1hc3NlcnRpb24';
    const out = redact('signature c2lnbmF0dXJlLW9mLXRoZS1hc3NlcnRpb24 does not verify', [jwt]);
    expect(out).toBe('signature [redacted] does not verify');
  });

  it('takes a plain list of secrets as well as derived forms, and gives the same text', () => {
    const text = `x ${formEncodeComponent(secret)} y ${b64url(secret)}`;
    expect(redact(text, [secret])).toBe(redact(text, secretForms([secret])));
    expect(redact(text, [secret])).toBe('x [redacted] y [redacted]');
  });

  it('leaves ordinary text alone and ignores secrets too short to tell from words', () => {
    expect(redact('invalid client credentials', ['abc', undefined, ''])).toBe(
      'invalid client credentials',
    );
  });

  it('turns control characters into spaces so a server cannot forge log lines', () => {
    expect(redact('bad\r\nlevel=info msg=forged\u0000', [])).toBe('bad  level=info msg=forged ');
  });

  it('caps the length after redaction, so a cut never leaves part of a secret', () => {
    const text = `${'x'.repeat(290)}${secret}`;
    const out = redact(text, [secret], 300);
    expect(out).toBe(`${'x'.repeat(290)}[redacted]`);
    expect(redact('y'.repeat(400), [], 300)).toBe(`${'y'.repeat(300)}…`);
  });

  it('derives the forms once and orders them longest first', () => {
    const { forms: list } = secretForms([secret, secret]);
    expect(new Set(list).size).toBe(list.length);
    for (let i = 1; i < list.length; i++) {
      expect(list[i - 1]!.length).toBeGreaterThanOrEqual(list[i]!.length);
    }
  });
});
