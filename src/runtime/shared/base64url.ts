import { encodeBase64url, randomBase64url, sha256Base64url } from '../crypto/backend.js';

/** base64url without padding (RFC 7515 §2) of bytes or of a string's UTF-8 encoding. */
export function base64url(input: Uint8Array | string): string {
  return encodeBase64url(input);
}

/** A URL-safe random identifier with `bytes` bytes of entropy. */
export function randomId(bytes = 16): string {
  return randomBase64url(bytes);
}

/**
 * base64url(SHA-256(value)), as used by DPoP's `ath` (RFC 9449 §4.2). A string or a promise of
 * one, depending on the crypto backend: `await` it.
 */
export function sha256base64url(value: string): string | Promise<string> {
  return sha256Base64url(value);
}
