/** The authentication schemes a resource server challenges with (RFC 6750 §3, RFC 9449 §7.1). */
export type ChallengeScheme = 'Bearer' | 'DPoP';

/** Parameters of one challenge, in the order they are written. */
export interface ChallengeParameters {
  realm?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
  scope?: string | undefined;
  algs?: string | undefined;
}

const order = ['realm', 'error', 'error_description', 'scope', 'algs'] as const;

/**
 * RFC 6750 §3 limits `error`, `error_description` and `scope` to printable ASCII without `"`
 * and `\`; holding every value to that set also keeps a header from ever being split or forged.
 */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ')}"`;
}

/**
 * One challenge, e.g. `Bearer realm="api", error="invalid_token", error_description="…"`.
 * With no parameters it is the bare scheme, as RFC 6750 §3.1 asks when a request carried no
 * credentials at all.
 */
export function formatChallenge(scheme: ChallengeScheme, parameters: ChallengeParameters): string {
  const parts: string[] = [];
  for (const name of order) {
    const value = parameters[name];
    if (value !== undefined && value !== '') parts.push(`${name}=${quoted(value)}`);
  }
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}

const tchar = "[!#$%&'*+.^_`|~0-9A-Za-z-]";
/**
 * One auth-param (RFC 9110 §11.2): a name, `=`, and a token or a quoted string. Matched from
 * the left, each quoted string is consumed whole, so text inside one is never read as a
 * parameter of its own.
 */
const authParam = new RegExp(
  `(?:^|[\\s,])(${tchar}+)[ \\t]*=[ \\t]*(?:"((?:[^"\\\\]|\\\\.)*)"|(${tchar}+))`,
  'g',
);

/**
 * Reads one parameter of a `WWW-Authenticate` value, such as the `error` of
 * `DPoP error="use_dpop_nonce", algs="ES256"`: the first parameter of that name (names are
 * case-insensitive), its quoted-string escapes undone; `undefined` when there is none. The one
 * parser of challenges in the SDK: what {@link formatChallenge} writes, this reads back.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function challengeParameter(
  header: string | null | undefined,
  name: string,
): string | undefined {
  if (!header) return undefined;
  const wanted = name.toLowerCase();
  for (const match of header.matchAll(authParam)) {
    if (match[1]?.toLowerCase() !== wanted) continue;
    const quotedValue = match[2];
    return quotedValue === undefined ? match[3] : quotedValue.replace(/\\(.)/g, '$1');
  }
  return undefined;
}
