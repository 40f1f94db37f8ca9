// base64url (RFC 4648 §5, unpadded as RFC 7515 §2 uses it) with nothing but the standard
// library of every runtime: the WebCrypto backend uses it directly, the Node backend only
// where Buffer has no faster answer.

/** Characters of the base64url alphabet that may end an encoding whose length is 2 mod 4. */
const lastOfTwo = /[AQgw]$/;
/** Characters that may end an encoding whose length is 3 mod 4. */
const lastOfThree = /[AEIMQUYcgkosw048]$/;
const alphabetOnly = /^[\w-]*$/;

/**
 * Whether `text[start, end)` is canonical unpadded base64url (RFC 7515 §2): only the URL-safe
 * alphabet, no padding, a length that is not 1 mod 4, and zero bits in the unused tail of the
 * last character, so every byte string has exactly one encoding and a signature cannot be
 * "the same" under two spellings.
 */
export function isCanonicalBase64url(text: string, start = 0, end = text.length): boolean {
  const rest = (end - start) & 3;
  if (rest === 1) return false;
  const part = start === 0 && end === text.length ? text : text.slice(start, end);
  if (!alphabetOnly.test(part)) return false;
  if (rest === 0) return true;
  // The last character's unused low bits must be zero: 4 of them after two characters
  // (one byte), 2 after three (two bytes).
  return (rest === 2 ? lastOfTwo : lastOfThree).test(part);
}

const minus = /-/g;
const underscore = /_/g;

/**
 * The bytes of canonical base64url as a binary string (one char per byte, as `atob` gives
 * them); `undefined` for anything that is not canonical.
 */
export function decodeBase64urlBinary(
  text: string,
  start = 0,
  end = text.length,
): string | undefined {
  if (!isCanonicalBase64url(text, start, end)) return undefined;
  const part = text.slice(start, end);
  return atob(part.replace(minus, '+').replace(underscore, '/'));
}

/** The bytes of a binary string (chars 0–255). */
export function binaryToBytes(binary: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const nonAscii = /[^\x00-\x7f]/;
// `ignoreBOM: true` keeps a leading U+FEFF in the text, so JSON.parse refuses it instead of
// the decoder silently dropping it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A binary string read as UTF-8; `undefined` when it is not valid UTF-8. */
export function binaryToUtf8(binary: string): string | undefined {
  // ASCII is its own UTF-8: the common case needs no decoder.
  if (!nonAscii.test(binary)) return binary;
  try {
    return utf8.decode(binaryToBytes(binary));
  } catch {
    return undefined;
  }
}

const plus = /\+/g;
const slash = /\//g;

/** Unpadded base64url of bytes. */
export function encodeBase64urlBytes(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return encodeBase64urlBinary(binary);
}

/** Unpadded base64url of a binary string (chars 0–255). */
export function encodeBase64urlBinary(binary: string): string {
  const padded = btoa(binary);
  let end = padded.length;
  while (end > 0 && padded.charCodeAt(end - 1) === 0x3d) end--;
  return (end === padded.length ? padded : padded.slice(0, end))
    .replace(plus, '-')
    .replace(slash, '_');
}
