/**
 * The options that make up a {@link TokenPolicy} (`typ`, `requiredClaims`, `claimValues`,
 * `absentClaims`, `scopeClaims`, `clientIds`, `clientIdClaims`), checked at factory time, each
 * given explicitly or taken from the profile.
 */
import type { ClaimValue, ResourceServerProfile } from '../profiles/types.js';
import { normaliseMediaType } from './compact-jws.js';

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

function resolveTyp(value: unknown, where: string): ReadonlySet<string> | 'generic' {
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

function resolveRequired(
  value: unknown,
  where: string,
): readonly (readonly string[])[] | undefined {
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

function resolveClaimValues(
  value: unknown,
  where: string,
): readonly (readonly [string, readonly ClaimValue[]])[] {
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
) {
  const pick = (key: keyof TokenPolicyOptions): unknown =>
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
    /** Normalised media types `typ` must be one of; `'generic'` for `typ: false`. */
    typ: resolveTyp(pick('typ'), where),
    /** Each entry: at least one of these claims is present. `undefined`: RFC 9068's, for `at+jwt` tokens. */
    requiredClaims: resolveRequired(pick('requiredClaims'), where),
    claimValues: resolveClaimValues(pick('claimValues'), where),
    absentClaims:
      absentClaims === undefined
        ? ([] as readonly string[])
        : nameList(absentClaims, 'absentClaims', where),
    scopeClaims:
      scopeClaims === undefined
        ? (['scope'] as readonly string[])
        : nameList(scopeClaims, 'scopeClaims', where),
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
            return new Set(clientIds as string[]) as ReadonlySet<string>;
          })(),
    clientIdClaims:
      clientIdClaims === undefined
        ? (['client_id', 'azp', 'appid'] as readonly string[])
        : nameList(clientIdClaims, 'clientIdClaims', where),
  };
}

/** The checked policy: what makes a JWT an access token for this resource server. */
export type TokenPolicy = ReturnType<typeof resolveTokenPolicy>;
