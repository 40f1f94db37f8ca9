/**
 * What makes a JWT an access token for this resource server, beyond its signature, issuer,
 * times and audience: the JWS `typ` it may carry, claims it must carry (or carry with given
 * values), claims it must not carry, the clients it may come from, and where its scopes live.
 *
 * RFC 9068 tells access tokens from other JWTs by `typ: at+jwt`. Many IdPs type theirs `JWT`,
 * like their ID tokens; for those, the markers of a profile (Keycloak's `typ: "Bearer"` claim,
 * Cognito's `token_use: "access"`, Entra's `azp`/`appid` plus `roles`/`scp`, …) do that job.
 */
import type { ClaimValue, ResourceServerProfile } from '../profiles/types.js';
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

/** The checked policy. */
export interface TokenPolicy {
  /** Normalised media types `typ` must be one of; `'generic'` for `typ: false`. */
  typ: ReadonlySet<string> | 'generic';
  /** Each entry: at least one of these claims is present. `undefined`: RFC 9068's, for `at+jwt` tokens. */
  requiredClaims: readonly (readonly string[])[] | undefined;
  claimValues: readonly (readonly [string, readonly ClaimValue[]])[];
  absentClaims: readonly string[];
  scopeClaims: readonly string[];
  clientIds: ReadonlySet<string> | undefined;
  clientIdClaims: readonly string[];
}

/** The options a policy is made of; each may also come from a profile. */
export interface TokenPolicyOptions {
  typ?: unknown;
  requiredClaims?: unknown;
  claimValues?: unknown;
  absentClaims?: unknown;
  scopeClaims?: unknown;
  clientIds?: unknown;
  clientIdClaims?: unknown;
}

const claimName = /^[\x21-\x7e]{1,128}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nameList(value: unknown, name: string, where: string): readonly string[] {
  if (
    !Array.isArray(value) ||
    !value.every((item) => typeof item === 'string' && claimName.test(item))
  ) {
    throw new TypeError(`${where}: \`${name}\` must be an array of claim names`);
  }
  return Object.freeze([...new Set(value as string[])]);
}

function resolveTyp(value: unknown, where: string): TokenPolicy['typ'] {
  if (value === undefined) return new Set(['at+jwt']);
  if (value === false) return 'generic';
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string' && item.trim() !== '')
  ) {
    throw new TypeError(
      `${where}: \`typ\` must be a media type such as 'at+jwt', a non-empty array of them, or false`,
    );
  }
  return new Set((list as string[]).map((item) => normaliseMediaType(item.trim())));
}

function resolveRequired(value: unknown, where: string): TokenPolicy['requiredClaims'] {
  if (value === undefined) return undefined;
  if (!Array.isArray(value))
    throw new TypeError(
      `${where}: \`requiredClaims\` must be an array of claim names (or arrays of alternatives)`,
    );
  return Object.freeze(
    value.map((entry: unknown) => {
      const group = typeof entry === 'string' ? [entry] : entry;
      if (!Array.isArray(group) || group.length === 0) {
        throw new TypeError(
          `${where}: \`requiredClaims\` must be an array of claim names (or arrays of alternatives)`,
        );
      }
      return nameList(group, 'requiredClaims', where);
    }),
  );
}

function isClaimValue(value: unknown): value is ClaimValue {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function resolveClaimValues(value: unknown, where: string): TokenPolicy['claimValues'] {
  if (value === undefined) return [];
  if (!isPlainObject(value))
    throw new TypeError(`${where}: \`claimValues\` must be an object of claim name → value(s)`);
  return Object.freeze(
    Object.entries(value).map(([name, allowed]) => {
      const list = Array.isArray(allowed) ? allowed : [allowed];
      if (!claimName.test(name) || list.length === 0 || !list.every(isClaimValue)) {
        throw new TypeError(
          `${where}: \`claimValues.${name.slice(0, 64)}\` must be a string, number or boolean, or a non-empty array of them`,
        );
      }
      return [name, Object.freeze([...list])] as const;
    }),
  );
}

/**
 * Resolves the policy: an option given explicitly wins over the profile's value for it.
 * Throws a `TypeError` naming the option for anything malformed.
 */
export function resolveTokenPolicy(
  options: TokenPolicyOptions,
  profile: ResourceServerProfile | undefined,
  where: string,
): TokenPolicy {
  const pick = <K extends keyof TokenPolicyOptions>(key: K): unknown =>
    options[key] !== undefined
      ? options[key]
      : (profile as Record<string, unknown> | undefined)?.[key];
  const clientIds = pick('clientIds');
  if (clientIds === undefined && profile?.requiresClientIds) {
    throw new TypeError(
      `${where}: this profile needs \`clientIds\`, the app clients whose tokens this server accepts: the IdP's access tokens do not say which service they are for`,
    );
  }
  const clientIdClaims = pick('clientIdClaims');
  const scopeClaims = pick('scopeClaims');
  const absentClaims = pick('absentClaims');
  return {
    typ: resolveTyp(pick('typ'), where),
    requiredClaims: resolveRequired(pick('requiredClaims'), where),
    claimValues: resolveClaimValues(pick('claimValues'), where),
    absentClaims: absentClaims === undefined ? [] : nameList(absentClaims, 'absentClaims', where),
    scopeClaims:
      scopeClaims === undefined ? ['scope'] : nameList(scopeClaims, 'scopeClaims', where),
    clientIds:
      clientIds === undefined
        ? undefined
        : (() => {
            if (
              !Array.isArray(clientIds) ||
              clientIds.length === 0 ||
              !clientIds.every((id) => typeof id === 'string' && id !== '')
            ) {
              throw new TypeError(
                `${where}: \`clientIds\` must be a non-empty array of client ids`,
              );
            }
            return new Set(clientIds as string[]);
          })(),
    clientIdClaims:
      clientIdClaims === undefined
        ? ['client_id', 'azp', 'appid']
        : nameList(clientIdClaims, 'clientIdClaims', where),
  };
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
