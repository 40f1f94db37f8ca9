import { decodeBase64url, encodeBase64url } from '../crypto/backend.js';

/** Seals and opens stored values with AES-256-GCM, the value's key name bound in as additional data. */
export interface ValueCipher {
  seal(keyName: string, plaintext: string): Promise<string>;
  /** The plaintext; throws for anything this key did not seal under this key name. */
  open(keyName: string, sealed: string): Promise<string>;
}

/** Marks a sealed value and its format: `s2s1.<iv>.<ciphertext and tag>`, both base64url. */
const marker = 's2s1.';
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function isAesGcmKey(key: unknown): key is CryptoKey {
  if (typeof CryptoKey !== 'undefined' && key instanceof CryptoKey)
    return key.algorithm.name === 'AES-GCM';
  const algorithm = (key as { algorithm?: { name?: unknown } } | null)?.algorithm;
  return (
    typeof key === 'object' && key !== null && algorithm?.name === 'AES-GCM' && 'usages' in key
  );
}

/**
 * Checks the key now and imports it on first use. A `Uint8Array` must hold 32 bytes (AES-256);
 * a `CryptoKey` must be an AES-GCM key allowed to encrypt and decrypt.
 */
export function createValueCipher(encryptionKey: unknown, where: string): ValueCipher {
  let key: () => Promise<CryptoKey>;
  if (encryptionKey instanceof Uint8Array) {
    if (encryptionKey.byteLength !== 32) {
      throw new TypeError(`${where}: \`encryptionKey\` must be 32 bytes (AES-256-GCM)`);
    }
    // A copy: the caller may wipe or reuse its buffer.
    const raw = new Uint8Array(encryptionKey);
    let imported: Promise<CryptoKey> | undefined;
    key = () =>
      (imported ??= crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, [
        'encrypt',
        'decrypt',
      ]));
  } else if (isAesGcmKey(encryptionKey)) {
    if (!encryptionKey.usages.includes('encrypt') || !encryptionKey.usages.includes('decrypt')) {
      throw new TypeError(`${where}: \`encryptionKey\` must be usable to encrypt and decrypt`);
    }
    const ready = Promise.resolve(encryptionKey);
    key = () => ready;
  } else {
    throw new TypeError(
      `${where}: \`encryptionKey\` must be 32 bytes (Uint8Array) or an AES-GCM CryptoKey`,
    );
  }

  return {
    async seal(keyName, plaintext) {
      // A random 96-bit IV per value (NIST SP 800-38D §8.2.2); far fewer than 2³² values per key.
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: encoder.encode(keyName) },
        await key(),
        encoder.encode(plaintext),
      );
      return `${marker}${encodeBase64url(iv)}.${encodeBase64url(new Uint8Array(sealed))}`;
    },
    async open(keyName, sealed) {
      if (!sealed.startsWith(marker)) throw new Error('the stored value is not sealed');
      const [iv, body, extra] = sealed.slice(marker.length).split('.');
      if (iv === undefined || body === undefined || extra !== undefined)
        throw new Error('the stored value is malformed');
      const ivBytes = decodeBase64url(iv);
      const bodyBytes = decodeBase64url(body);
      if (ivBytes?.byteLength !== 12 || bodyBytes === undefined)
        throw new Error('the stored value is malformed');
      const plaintext = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: ivBytes, additionalData: encoder.encode(keyName) },
        await key(),
        bodyBytes,
      );
      return decoder.decode(plaintext);
    },
  };
}
