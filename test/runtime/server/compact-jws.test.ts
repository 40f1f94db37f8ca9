import { describe, expect, it } from 'vitest';
import {
  decodeBase64url,
  hasDuplicateMembers,
  isCanonicalBase64url,
  normaliseMediaType,
  parseCompactJws,
} from '../../../src/runtime/server/compact-jws.js';
import { Rejection } from '../../../src/runtime/server/rejection.js';
import { encodeBase64url as base64url } from '../../../src/runtime/crypto/backend.js';

function rejectionOf(run: () => unknown): Rejection {
  try {
    run();
  } catch (failure) {
    if (failure instanceof Rejection) return failure;
    throw failure;
  }
  throw new Error('expected a rejection');
}

const header = base64url('{"alg":"ES256","typ":"at+jwt"}');
const payload = base64url('{"iss":"https://idp.example.test","exp":1}');

describe('base64url', () => {
  it('decodes every length that base64url allows', () => {
    for (let length = 0; length < 40; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      expect(decodeBase64url(base64url(bytes))).toEqual(bytes);
    }
  });

  it('decodes a slice of a string without copying it first', () => {
    const text = `xx${base64url('hello')}yy`;
    expect(new TextDecoder().decode(decodeBase64url(text, 2, text.length - 2))).toBe('hello');
  });

  it('refuses padding, the standard alphabet, whitespace and non-ASCII', () => {
    for (const bad of ['aGk=', 'a+b/', 'aGk ', 'aG\nk', 'aGké', 'a']) {
      expect(isCanonicalBase64url(bad), bad).toBe(false);
      expect(decodeBase64url(bad), bad).toBeUndefined();
    }
  });

  it('refuses a non-canonical last character whose unused bits are set', () => {
    // "hi" is aGk; aGl, aGm, … decode to the same bytes in lenient decoders.
    expect(isCanonicalBase64url('aGk')).toBe(true);
    for (const alias of ['aGl', 'aGm', 'aGn']) expect(isCanonicalBase64url(alias)).toBe(false);
    // One byte: "h" is aA; aB…aP carry stray low bits.
    expect(isCanonicalBase64url('aA')).toBe(true);
    expect(isCanonicalBase64url('aB')).toBe(false);
  });
});

describe('duplicate member detection', () => {
  it('finds a member named twice at the top level, escaped or not', () => {
    expect(hasDuplicateMembers('{"alg":"ES256","alg":"none"}')).toBe(true);
    expect(hasDuplicateMembers('{"alg":"ES256","\\u0061lg":"none"}')).toBe(true);
  });

  it('ignores nested objects, arrays and strings that look like members', () => {
    expect(hasDuplicateMembers('{"a":{"x":1,"x":2},"b":[{"a":1}],"c":"\\"a\\":"}')).toBe(false);
    expect(hasDuplicateMembers('{"a":"a","b":"a"}')).toBe(false);
  });
});

describe('parseCompactJws', () => {
  it('parses a well-formed JWS and keeps the part boundaries', () => {
    const compact = `${header}.${payload}.c2ln`;
    const jws = parseCompactJws(compact, 1000, 'token');
    expect(jws.header).toEqual({ alg: 'ES256', typ: 'at+jwt' });
    expect(jws.payload).toEqual({ iss: 'https://idp.example.test', exp: 1 });
    expect(compact.slice(0, jws.headerEnd)).toBe(header);
    expect(compact.slice(jws.payloadEnd + 1)).toBe('c2ln');
  });

  it('caps the length before looking at the content', () => {
    const rejection = rejectionOf(() => parseCompactJws('x'.repeat(1001), 1000, 'token'));
    expect(rejection.reason).toBe('malformed');
    expect(rejection.description).toBe('the token is too long');
  });

  it.each([
    ['two parts', `${header}.${payload}`],
    ['four parts', `${header}.${payload}.c2ln.c2ln`],
    ['five parts (a JWE)', `${header}.a.b.c.d`],
    ['an empty signature', `${header}.${payload}.`],
    ['an empty payload', `${header}..c2ln`],
    ['an empty header', `.${payload}.c2ln`],
    ['a padded signature', `${header}.${payload}.c2ln=`],
    ['a header that is not JSON', `${base64url('alg')}.${payload}.c2ln`],
    ['a header that is a JSON array', `${base64url('["alg"]')}.${payload}.c2ln`],
    ['a header that is JSON null', `${base64url('null')}.${payload}.c2ln`],
    ['a header with a byte-order mark', `${base64url('\uFEFF{"alg":"ES256"}')}.${payload}.c2ln`],
    [
      'a header that is not UTF-8',
      `${base64url(new Uint8Array([0x7b, 0xff, 0x7d]))}.${payload}.c2ln`,
    ],
    ['a payload that is a string', `${header}.${base64url('"claims"')}.c2ln`],
    ['a duplicate alg', `${base64url('{"alg":"ES256","alg":"none"}')}.${payload}.c2ln`],
    ['a duplicate exp', `${header}.${base64url('{"exp":1,"exp":99999999999}')}.c2ln`],
    ['crit', `${base64url('{"alg":"ES256","crit":["exp"],"exp":1}')}.${payload}.c2ln`],
    ['b64', `${base64url('{"alg":"ES256","b64":true}')}.${payload}.c2ln`],
  ])('refuses %s', (_name, compact) => {
    const rejection = rejectionOf(() => parseCompactJws(compact, 10_000, 'token'));
    expect(rejection.reason).toBe('malformed');
    expect(rejection.details.error).toBeUndefined();
  });

  it('reports a defective proof as invalid_dpop_proof', () => {
    const rejection = rejectionOf(() => parseCompactJws('a.b', 10_000, 'proof'));
    expect(rejection.reason).toBe('dpop');
    expect(rejection.details.error).toBe('invalid_dpop_proof');
  });
});

describe('normaliseMediaType', () => {
  it('ignores case and the application/ prefix', () => {
    expect(normaliseMediaType('at+jwt')).toBe('at+jwt');
    expect(normaliseMediaType('AT+JWT')).toBe('at+jwt');
    expect(normaliseMediaType('application/at+jwt')).toBe('at+jwt');
    expect(normaliseMediaType('Application/AT+JWT')).toBe('at+jwt');
  });
});
