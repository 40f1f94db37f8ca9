import { formEncodeComponent } from './form.js';

/**
 * A value that must never come back out of the SDK: a client secret, a client assertion, a
 * token, a DPoP proof, or a client id and secret sent together as Basic credentials.
 */
export type Secret = string | undefined | { readonly user: string; readonly password: string };

/** Every form the secrets of one request can take in text, longest first, derived once. */
export interface SecretForms {
  readonly forms: readonly string[];
}

/** Shorter values are not redacted: they would match ordinary words. */
const minSecretLength = 4;
/** A base64 run cut from the middle of a longer encoding must be this long to count. */
const minCoreLength = 8;

const encoder = new TextEncoder();

function binary(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += String.fromCharCode(byte);
  return out;
}

const toBase64url = (base64: string) =>
  base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/**
 * The base64 and base64url of `value`, whole, and the runs of characters that encode only its
 * bytes when it sits at any offset inside a longer encoded value (the secret inside
 * `base64(id:secret)`, or inside an echoed header encoded again).
 */
function base64Forms(value: string): string[] {
  const bytes = encoder.encode(value);
  const whole = btoa(binary(bytes));
  const out = [whole, toBase64url(whole)];
  for (let offset = 0; offset < 3; offset++) {
    const shifted = new Uint8Array(offset + bytes.length);
    shifted.set(bytes, offset);
    const encoded = btoa(binary(shifted));
    const core = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * shifted.length) / 6));
    if (core.length >= minCoreLength) out.push(core, toBase64url(core));
  }
  return out;
}

/** `%2B` and `%2b` are the same byte: an echo may use either case. */
const lowerHex = (text: string) => text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());

/** The value inside a JSON string, as JSON.stringify writes it and with non-ASCII escaped. */
function jsonForms(value: string): string[] {
  const plain = JSON.stringify(value).slice(1, -1);
  const ascii = plain.replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return [
    plain,
    ascii,
    ascii.replace(/\\u[0-9a-f]{4}/g, (escape) => `\\u${escape.slice(2).toUpperCase()}`),
  ];
}

/** A compact JWS (a client assertion, a DPoP proof, a JWT access token). */
const compactJws = /^[\w-]+\.[\w-]+\.([\w-]+)$/;

/**
 * Every textual form of one value: raw, form- and URI-encoded, JSON-escaped, base64(url). For
 * a JWT also its signature alone: header and payload are no secret, so the signature would
 * rebuild the whole token.
 */
function formsOf(value: string): string[] {
  const form = formEncodeComponent(value);
  const uri = encodeURIComponent(value);
  const out = [value, form, lowerHex(form), uri, lowerHex(uri), ...jsonForms(value)];
  for (const encoded of [value, form, uri]) out.push(...base64Forms(encoded));
  const signature = compactJws.exec(value)?.[1];
  if (signature !== undefined && signature.length >= 16) out.push(...formsOf(signature));
  return out;
}

/**
 * Derives, once, every form in which the given secrets can come back in an answer: the value
 * itself, its `application/x-www-form-urlencoded` form (RFC 6749 §2.3.1, `+` for a space, as
 * the SDK sends it), its `encodeURIComponent` form, base64 and base64url (also as part of a
 * longer encoded value), JSON-string escaping, and for a Basic pair the credential
 * `base64(form(id):form(secret))` and `base64(id:secret)`.
 */
export function secretForms(secrets: readonly Secret[] | SecretForms): SecretForms {
  if (!Array.isArray(secrets)) return secrets as SecretForms;
  const forms = new Set<string>();
  const add = (value: string) => {
    if (value.length < minSecretLength) return;
    for (const form of formsOf(value)) if (form.length >= minSecretLength) forms.add(form);
  };
  for (const secret of secrets as readonly Secret[]) {
    if (typeof secret === 'string') add(secret);
    else if (secret !== undefined) {
      add(secret.password);
      const pairs = [
        `${secret.user}:${secret.password}`,
        `${formEncodeComponent(secret.user)}:${formEncodeComponent(secret.password)}`,
      ];
      for (const pair of pairs) {
        if (secret.password.length >= minSecretLength) add(pair);
      }
    }
  }
  return { forms: [...forms].sort((a, b) => b.length - a.length) };
}

/**
 * Removes every occurrence of the given secrets, in every form {@link secretForms} derives, from
 * text that came from outside (an IdP's `error_description`, say) before it goes into an error
 * message, and caps its length. Control characters become spaces, so a server cannot forge log
 * lines.
 */
export function redact(text: string, secrets: readonly Secret[] | SecretForms, max = 300): string {
  let out = text;
  for (const form of secretForms(secrets).forms) {
    if (out.includes(form)) out = out.split(form).join('[redacted]');
  }
  out = out.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return out.length > max ? `${out.slice(0, max)}…` : out;
}
