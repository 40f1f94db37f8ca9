import { reject } from './rejection.js';

/** A JWS in compact serialization (RFC 7515 §7.1) that passed the structural checks. */
export interface CompactJws {
  /** The serialization as received. */
  readonly compact: string;
  /** Index of the first `.`: the protected header is `compact.slice(0, headerEnd)`. */
  readonly headerEnd: number;
  /** Index of the second `.`: the signature starts after it. */
  readonly payloadEnd: number;
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** What is being parsed decides how a defect is reported. */
export type JwsKind = 'token' | 'proof';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const sextets = new Int8Array(128).fill(-1);
for (let i = 0; i < alphabet.length; i++) sextets[alphabet.charCodeAt(i)] = i;

function sextet(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? (sextets[code] as number) : -1;
}

/**
 * Whether `text[start, end)` is canonical unpadded base64url (RFC 7515 §2): only the URL-safe
 * alphabet, no padding, a length that is not 1 mod 4, and zero bits in the unused tail of the
 * last character, so every byte string has exactly one encoding and a signature cannot be
 * "the same" under two spellings.
 */
export function isCanonicalBase64url(text: string, start = 0, end = text.length): boolean {
  const length = end - start;
  const rest = length & 3;
  if (rest === 1) return false;
  for (let i = start; i < end; i++) if (sextet(text, i) < 0) return false;
  if (rest === 0 || length === 0) return true;
  const last = sextet(text, end - 1);
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** Decodes canonical unpadded base64url; `undefined` for anything else. */
export function decodeBase64url(
  text: string,
  start = 0,
  end = text.length,
): Uint8Array | undefined {
  if (!isCanonicalBase64url(text, start, end)) return undefined;
  const length = end - start;
  const out = new Uint8Array((length * 3) >> 2);
  let o = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const n =
      (sextet(text, i) << 18) |
      (sextet(text, i + 1) << 12) |
      (sextet(text, i + 2) << 6) |
      sextet(text, i + 3);
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  const rest = end - i;
  if (rest === 2) {
    out[o] = (sextet(text, i) << 2) | (sextet(text, i + 1) >> 4);
  } else if (rest === 3) {
    const n = (sextet(text, i) << 10) | (sextet(text, i + 1) << 4) | (sextet(text, i + 2) >> 2);
    out[o++] = n >> 8;
    out[o] = n & 0xff;
  }
  return out;
}

// `ignoreBOM: true` keeps a leading U+FEFF in the text, so JSON.parse refuses it instead of
// the decoder silently dropping it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Whether a JSON text (already known to parse) names a member of its top-level object twice.
 * RFC 7515 §5.2 lets a parser reject such headers, and RFC 8725 §3.1 asks verifiers to be
 * strict: two `alg` members read differently by two libraries is how confusion attacks start.
 */
export function hasDuplicateMembers(json: string): boolean {
  const seen = new Set<string>();
  let depth = 0;
  let expectName = false;
  const n = json.length;
  for (let i = 0; i < n; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      let escaped = false;
      while (j < n) {
        const d = json.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j += 2;
          continue;
        }
        if (d === 0x22) break;
        j++;
      }
      if (depth === 1 && expectName) {
        const raw = json.slice(i + 1, j);
        const name = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (seen.has(name)) return true;
        seen.add(name);
        expectName = false;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth === 1) expectName = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c && depth === 1) {
      expectName = true;
    }
  }
  return false;
}

/** Decodes one base64url part as a UTF-8 JSON object without duplicate members. */
function decodeJsonObject(
  text: string,
  start: number,
  end: number,
): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(text, start, end);
  if (bytes === undefined || bytes.length === 0) return undefined;
  let json: string;
  let value: unknown;
  try {
    json = utf8.decode(bytes);
    // The parser's own message quotes the input, which is part of the token: it is dropped.
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if (hasDuplicateMembers(json)) return undefined;
  return value as Record<string, unknown>;
}

/**
 * Parses a compact JWS strictly, before any key is looked up or any signature checked: the
 * length is capped before anything else, then exactly three non-empty canonical base64url
 * parts, a protected header and a payload that are JSON objects without duplicate members,
 * no `crit` (this server understands no extension) and no `b64` (RFC 7797 unencoded payloads
 * are never accepted). Algorithm and type checks are the caller's.
 */
export function parseCompactJws(compact: string, maxLength: number, kind: JwsKind): CompactJws {
  function fail(description: string): never {
    if (kind === 'token') reject('malformed', description);
    reject('dpop', description, { error: 'invalid_dpop_proof' });
  }

  if (compact.length > maxLength) fail(`the ${kind === 'token' ? 'token' : 'proof'} is too long`);
  const headerEnd = compact.indexOf('.');
  const payloadEnd = headerEnd < 0 ? -1 : compact.indexOf('.', headerEnd + 1);
  if (headerEnd <= 0 || payloadEnd < 0 || compact.indexOf('.', payloadEnd + 1) >= 0) {
    fail('not a JWS in compact serialization with three parts');
  }
  if (payloadEnd === headerEnd + 1 || payloadEnd === compact.length - 1) {
    fail('a part of the JWS is empty');
  }
  if (!isCanonicalBase64url(compact, payloadEnd + 1, compact.length)) {
    fail('the JWS signature is not canonical base64url');
  }
  const header = decodeJsonObject(compact, 0, headerEnd);
  if (header === undefined) fail('the JWS header is not a canonical base64url JSON object');
  if (Object.prototype.hasOwnProperty.call(header, 'crit')) {
    fail('the JWS header lists critical extensions this server does not support');
  }
  if (Object.prototype.hasOwnProperty.call(header, 'b64')) {
    fail('unencoded JWS payloads are not accepted');
  }
  const payload = decodeJsonObject(compact, headerEnd + 1, payloadEnd);
  if (payload === undefined) fail('the JWS payload is not a canonical base64url JSON object');
  return { compact, headerEnd, payloadEnd, header, payload };
}

/**
 * The media type in a `typ` header, normalised for comparison: case-insensitive, and with the
 * `application/` prefix optional (RFC 7515 §4.1.9).
 */
export function normaliseMediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}
