import type { Secret } from '../shared/redact.js';

/** Form members that carry credentials or tokens (RFC 6749 §2.3.1, RFC 7523, RFC 7662, RFC 8693). */
const secretParameters = [
  'client_secret',
  'client_assertion',
  'token',
  'subject_token',
  'actor_token',
  'refresh_token',
  'assertion',
  'code_verifier',
  'password',
];

function formDecode(value: string): string {
  return new URLSearchParams(`v=${value}`).get('v') ?? value;
}

/** Every credential a request carries: its `Authorization` and `DPoP` headers and form members. */
export function requestSecrets(headers: Headers, body: string | undefined): Secret[] {
  const out: Secret[] = [];
  for (const name of ['authorization', 'dpop']) {
    const value = headers.get(name);
    if (!value) continue;
    const space = value.indexOf(' ');
    const credential = space < 0 ? value : value.slice(space + 1).trim();
    out.push(value, credential);
    if (name === 'authorization' && /^basic$/i.test(value.slice(0, space))) {
      try {
        const pair = new TextDecoder().decode(
          Uint8Array.from(atob(credential), (c) => c.charCodeAt(0)),
        );
        const colon = pair.indexOf(':');
        if (colon >= 0) {
          out.push({
            user: formDecode(pair.slice(0, colon)),
            password: formDecode(pair.slice(colon + 1)),
          });
        }
      } catch {
        // Not base64: the header value itself is scrubbed.
      }
    }
  }
  if (body && /^application\/x-www-form-urlencoded/i.test(headers.get('content-type') ?? '')) {
    const form = new URLSearchParams(body);
    for (const name of secretParameters) out.push(...form.getAll(name));
  }
  return out;
}
