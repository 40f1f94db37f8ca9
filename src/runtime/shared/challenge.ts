/**
 * Reading `WWW-Authenticate` challenges (RFC 9110 §11.6.1): the client reads the resource
 * server's, the middleware reads its own back. The server writes them with `formatChallenge`
 * in `server/www-authenticate.ts`.
 */

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
 * parser of challenges in the SDK: what `formatChallenge` writes, this reads back.
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
