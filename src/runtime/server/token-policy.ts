/**
 * What makes a JWT an access token for this resource server, beyond its signature, issuer,
 * times and audience: the JWS `typ` it may carry, claims it must carry (or carry with given
 * values), claims it must not carry, the clients it may come from, and where its scopes live.
 *
 * RFC 9068 tells access tokens from other JWTs by `typ: at+jwt`. Many IdPs type theirs `JWT`,
 * like their ID tokens; for those, the markers of a profile (Keycloak's `typ: "Bearer"` claim,
 * Cognito's `token_use: "access"`, Entra's `azp`/`appid` plus `roles`/`scp`, …) do that job.
 */
import type { TokenPolicy } from './token-policy-options.js';
import { normaliseMediaType } from './compact-jws.js';
import { reject } from './rejection.js';

/**
 * The claims RFC 9068 §2.2 requires of a JWT access token: what a token whose header `typ` is
 * `at+jwt` must carry when `requiredClaims` (the option, or the profile's) says nothing else.
 * A base for a list relaxed for one issuer.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 * @example
 * ```ts
 * // This issuer's client-credentials tokens carry no `sub`.
 * const requiredClaims = RFC9068_REQUIRED_CLAIMS.filter((claim) => claim !== 'sub');
 * const server = createResourceServer({ issuer, audience, requiredClaims });
 * ```
 */
export const RFC9068_REQUIRED_CLAIMS: readonly string[] = Object.freeze([
  'iss',
  'exp',
  'aud',
  'sub',
  'client_id',
  'iat',
  'jti',
]);

/**
 * With `typ: false`, the `typ` values that still pass: none at all, `JWT` (RFC 7519 §5.1) and
 * `at+jwt`. Anything else names another kind of JWT (`logout+jwt`, `dpop+jwt`,
 * `token-introspection+jwt`, `secevent+jwt`, …) and is refused.
 */
const GENERIC_TYPES: ReadonlySet<string> = new Set(['jwt', 'at+jwt']);

export type { TokenPolicy } from './token-policy-options.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The most characters of a value {@link shown} quotes: an issuer URL fits, a token does not. */
const SHOWN_LENGTH = 128;

/** A compact JWS inside a value: a header (`eyJ` is base64url of `{"`), a payload, a signature. */
const embeddedJws = /eyJ[\w-]*\.[\w-]*\.[\w-]+/g;

/**
 * A value from a token, made safe to show in an error object: a string JSON-quoted, anything
 * else as its JSON text, cut at {@link SHOWN_LENGTH} characters. A JWT inside it (a token
 * smuggled into a claim) is shown as `<JWT>`: short ones would otherwise fit whole.
 */
export function shown(value: unknown): string {
  const cut = (text: string) => {
    const safe = text.replace(embeddedJws, '<JWT>');
    return safe.length > SHOWN_LENGTH ? `${safe.slice(0, SHOWN_LENGTH - 1)}…` : safe;
  };
  if (typeof value === 'string') return JSON.stringify(cut(value));
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JSON.stringify gives undefined for undefined, functions and symbols
  return cut(JSON.stringify(value) ?? String(value));
}

function describeTyp(policy: TokenPolicy): string {
  return policy.typ === 'generic'
    ? 'none, JWT or at+jwt (typ: false)'
    : [...policy.typ].join(' or ');
}

/** The header `typ` check (RFC 9068 §4, RFC 8725 §3.11). */
export function checkTyp(typ: unknown, policy: TokenPolicy): void {
  if (policy.typ === 'generic') {
    if (typ === undefined) return;
    if (typeof typ === 'string' && GENERIC_TYPES.has(normaliseMediaType(typ))) return;
  } else if (typeof typ === 'string' && policy.typ.has(normaliseMediaType(typ))) {
    return;
  }
  reject('type', 'the token is not a JWT access token (typ)', {
    detail: `typ ${typ === undefined ? 'is absent' : shown(typ)}; expected ${describeTyp(policy)} (the \`typ\` option)`,
  });
}

function present(claims: Readonly<Record<string, unknown>>, name: string): boolean {
  return Object.hasOwn(claims, name) && claims[name] !== undefined && claims[name] !== null;
}

/**
 * The access-token markers: required claims (RFC 9068's for an `at+jwt` token unless the
 * option says otherwise), claims with required values, claims that must be absent, and the
 * client allow-list.
 */
/** RFC 9068's required claims as one-name groups, made once rather than on every token. */
const RFC9068_REQUIRED_GROUPS: readonly (readonly string[])[] = RFC9068_REQUIRED_CLAIMS.map(
  (name) => [name],
);

export function checkMarkers(
  claims: Readonly<Record<string, unknown>>,
  typ: unknown,
  policy: TokenPolicy,
): void {
  const required =
    policy.requiredClaims ??
    (typeof typ === 'string' && normaliseMediaType(typ) === 'at+jwt'
      ? RFC9068_REQUIRED_GROUPS
      : []);
  const listFrom =
    policy.requiredClaims === undefined
      ? 'RFC 9068 §2.2, for a token typed at+jwt; the `requiredClaims` option replaces the list'
      : 'the `requiredClaims` option';
  for (const group of required) {
    if (!group.some((name) => present(claims, name))) {
      reject('claims', 'the token lacks a required claim', {
        claim: group.join('|'),
        detail: `no ${group.join(' or ')} claim; required: ${required.map((g) => g.join('|')).join(', ')} (${listFrom})`,
      });
    }
  }
  for (const [name, allowed] of policy.claimValues) {
    const value = claims[name];
    if (!allowed.some((candidate) => candidate === value)) {
      reject('claims', 'the token is not an access token for this resource', {
        claim: name,
        detail: `claim ${name} is ${value === undefined ? 'absent' : shown(value)}; expected ${allowed.map((item) => JSON.stringify(item)).join(' or ')} (the \`claimValues\` option)`,
      });
    }
  }
  for (const name of policy.absentClaims) {
    if (Object.hasOwn(claims, name)) {
      reject('claims', 'the token is not an access token for this resource', {
        claim: name,
        detail: `the token carries ${name}, which marks another kind of token (the \`absentClaims\` option)`,
      });
    }
  }
  if (policy.clientIds !== undefined) {
    const source = policy.clientIdClaims.find((name) => typeof claims[name] === 'string');
    const client = source === undefined ? undefined : (claims[source] as string);
    if (client === undefined || !policy.clientIds.has(client)) {
      reject('audience', 'the token was not issued to an accepted client', {
        detail: `${source === undefined ? `no ${policy.clientIdClaims.join(' or ')} claim` : `${source} is ${shown(client)}`}; expected one of ${[...policy.clientIds].map((id) => JSON.stringify(id)).join(', ')} (the \`clientIds\` option)`,
      });
    }
  }
}

/**
 * The scopes a token grants, from the claims named by `scopeClaims`, in order: a string claim
 * is space-separated (RFC 9068 §2.2.3), an array claim lists them (Duende's `scope`, Entra's
 * `roles`), an object claim's keys are them (ZITADEL's project roles); a name starting with `/`
 * is a JSON Pointer into nested claims (Keycloak's `/realm_access/roles`). Malformed claims
 * grant nothing.
 */
export function grantedScopes(
  claims: Readonly<Record<string, unknown>>,
  scopeClaims: readonly string[],
): Set<string> {
  const granted = new Set<string>();
  for (const name of scopeClaims) {
    const source = name.startsWith('/') ? pointAt(claims, name) : claims[name];
    let list: unknown[] = [];
    if (typeof source === 'string') list = source.split(' ');
    else if (Array.isArray(source)) list = source;
    else if (isPlainObject(source)) list = Object.keys(source);
    for (const scope of list) if (typeof scope === 'string' && scope !== '') granted.add(scope);
  }
  return granted;
}

/**
 * The value an RFC 6901 JSON Pointer (`/realm_access/roles`) names inside the claims, for
 * scopes that live in a nested claim (Keycloak's realm and client roles). Own members only.
 */
function pointAt(claims: Readonly<Record<string, unknown>>, pointer: string): unknown {
  let value: unknown = claims;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isPlainObject(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

/**
 * Every required scope must be granted, read through `scopeClaims`, else 403
 * `insufficient_scope` naming the required scopes (RFC 6750 §3.1).
 */
export function checkScopes(
  claims: Readonly<Record<string, unknown>>,
  required: readonly string[] | undefined,
  scopeClaims: readonly string[],
): void {
  if (required === undefined || required.length === 0) return;
  const granted = grantedScopes(claims, scopeClaims);
  const missing = required.filter((scope) => !granted.has(scope));
  if (missing.length === 0) return;
  const from =
    scopeClaims.length === 0
      ? 'no claim is read for scopes (`scopeClaims` is empty)'
      : `read from ${scopeClaims.join(', ')} (the \`scopeClaims\` option)`;
  reject('scope', 'the token lacks a required scope', {
    error: 'insufficient_scope',
    scope: required.join(' '),
    detail: `missing ${missing.join(', ')}; the token grants ${granted.size === 0 ? 'none' : shown([...granted].join(' '))}, ${from}`,
  });
}
