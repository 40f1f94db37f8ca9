/**
 * Which issuers a resource server accepts: one or several configured issuers, the spellings a
 * profile knows for them (Google signs as `accounts.google.com` too), and issuer templates
 * (Entra's `https://login.microsoftonline.com/{tenantid}/v2.0`), filled from a claim of the
 * token (`tid`) that must name a tenant on the allow-list. Discovery starts from the first
 * issuer that is not a template; every accepted issuer shares its key set.
 */
import type { ResourceServerProfile } from '../profiles/types.js';
import { requireHttpUrl } from '../shared/url.js';
import { reject } from './rejection.js';
import { shown } from './token-policy.js';

/** An issuer template: `placeholder` in a configured issuer is filled from the token's `claim`. */
export interface IssuerTemplate {
  /** The text to replace, such as `{tenantid}`. */
  placeholder: string;
  /** The claim that fills it, such as `tid`. */
  claim: string;
}

/** The options the issuer rules are made of. */
export interface IssuerPolicyOptions {
  issuer?: unknown;
  tenants?: unknown;
  issuerTemplate?: unknown;
  keyIssuer?: unknown;
  jwksUri?: unknown;
}

const tenantId = /^[A-Za-z0-9._~-]{1,128}$/;
const claimName = /^[\x21-\x7e]{1,128}$/;

function resolveTemplate(value: unknown, where: string): IssuerTemplate | undefined {
  if (value === undefined) return undefined;
  const { placeholder, claim } = (value ?? {}) as Record<string, unknown>;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof placeholder !== 'string' ||
    !/^\{[A-Za-z0-9_]+\}$/.test(placeholder) ||
    typeof claim !== 'string' ||
    !claimName.test(claim)
  ) {
    throw new TypeError(
      `${where}: \`issuerTemplate\` must be { placeholder, claim } such as { placeholder: '{tenantid}', claim: 'tid' }`,
    );
  }
  return Object.freeze({ placeholder, claim });
}

function resolveTenants(value: unknown, where: string): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((item) => typeof item === 'string' && tenantId.test(item))
  ) {
    throw new TypeError(`${where}: \`tenants\` must be a non-empty array of tenant ids`);
  }
  return new Set(value as string[]);
}

/**
 * Resolves the issuer rules; an explicit option wins over the profile's value for it. Throws a
 * `TypeError` naming the option for anything malformed, for a template without `tenants`, for
 * `tenants` without a template, and for templates only without `jwksUri` (a template names no
 * discovery document).
 */
export function resolveIssuerPolicy(
  options: IssuerPolicyOptions,
  profile: ResourceServerProfile | undefined,
  where: string,
  urls: { allowInsecureHttp: boolean },
) {
  const list = typeof options.issuer === 'string' ? [options.issuer] : options.issuer;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(`${where}: \`issuer\` must be an issuer URL or a non-empty array of them`);
  }
  const template = resolveTemplate(options.issuerTemplate ?? profile?.issuerTemplate, where);
  const keyIssuer = options.keyIssuer ?? profile?.keyIssuer ?? false;
  if (typeof keyIssuer !== 'boolean') {
    throw new TypeError(`${where}: \`keyIssuer\` must be a boolean`);
  }
  const exact = new Set<string>();
  const templates: string[] = [];
  let discoveryIssuer: string | undefined;
  for (const [index, issuer] of (list as unknown[]).entries()) {
    const name = list.length === 1 ? 'issuer' : `issuer[${index}]`;
    if (
      template !== undefined &&
      typeof issuer === 'string' &&
      issuer.includes(template.placeholder)
    ) {
      // A template is checked as the URL it becomes once filled.
      requireHttpUrl(issuer.replaceAll(template.placeholder, 'tenant'), name, where, urls);
      templates.push(issuer);
      continue;
    }
    const checked = requireHttpUrl(issuer, name, where, urls);
    discoveryIssuer ??= checked;
    exact.add(checked);
    for (const alias of profile?.issuerAliases?.[checked] ?? []) exact.add(alias);
  }
  const tenants = resolveTenants(options.tenants, where);
  if (templates.length > 0 && tenants === undefined) {
    throw new TypeError(
      `${where}: the issuer template ${JSON.stringify(templates[0])} needs \`tenants\`, the ${template?.claim} values whose tokens this server accepts`,
    );
  }
  if (templates.length === 0 && tenants !== undefined) {
    throw new TypeError(
      `${where}: \`tenants\` applies only to an issuer template such as 'https://login.microsoftonline.com/{tenantid}/v2.0' (profile 'entra'); no configured issuer is one`,
    );
  }
  if (discoveryIssuer === undefined && options.jwksUri === undefined) {
    throw new TypeError(
      `${where}: an issuer template names no discovery document: give \`jwksUri\` (for Entra, 'https://login.microsoftonline.com/organizations/discovery/v2.0/keys'), or list an issuer without a placeholder to discover from`,
    );
  }
  return {
    /** The issuer discovery starts from: the first configured issuer that is not a template. */
    discoveryIssuer,
    /** Issuers compared exactly (RFC 8414 §3.3): the configured ones and their profile aliases. */
    exact: exact as ReadonlySet<string>,
    /** Configured issuers holding the template's placeholder. */
    templates: Object.freeze(templates),
    template,
    /** The values the template's claim may have; set exactly when `templates` is not empty. */
    tenants,
    /** A key's own `issuer` member, when it has one, must name an issuer accepted for the token. */
    keyIssuer,
  };
}

/** The checked issuer rules. */
export type IssuerPolicy = ReturnType<typeof resolveIssuerPolicy>;

/** The tenant a token names through the template's claim, when it is on the allow-list. */
function allowedTenant(
  claims: Readonly<Record<string, unknown>>,
  policy: IssuerPolicy,
): string | undefined {
  if (policy.template === undefined || policy.tenants === undefined) return undefined;
  const value = claims[policy.template.claim];
  return typeof value === 'string' && policy.tenants.has(value) ? value : undefined;
}

/** Whether `issuer` is one this server accepts for a token with these claims. */
export function acceptsIssuer(
  issuer: unknown,
  claims: Readonly<Record<string, unknown>>,
  policy: IssuerPolicy,
): boolean {
  if (typeof issuer !== 'string') return false;
  if (policy.exact.has(issuer)) return true;
  const tenant = allowedTenant(claims, policy);
  if (tenant === undefined) return false;
  const placeholder = policy.template!.placeholder;
  return policy.templates.some((template) => template.replaceAll(placeholder, tenant) === issuer);
}

function describeExpected(policy: IssuerPolicy): string {
  const names = [...policy.exact, ...policy.templates].map((issuer) => JSON.stringify(issuer));
  const list = names.length === 1 ? names[0]! : `one of ${names.join(', ')}`;
  if (policy.template === undefined || policy.templates.length === 0) return list;
  return `${list}, ${policy.template.placeholder} filled from ${policy.template.claim} in ${[
    ...(policy.tenants ?? []),
  ]
    .map((tenant) => JSON.stringify(tenant))
    .join(', ')}`;
}

/** The `iss` check (RFC 9068 §4, RFC 8414 §3.3: compared exactly, never normalised). */
export function checkIssuer(claims: Readonly<Record<string, unknown>>, policy: IssuerPolicy): void {
  if (acceptsIssuer(claims.iss, claims, policy)) return;
  let tenant = '';
  if (policy.template !== undefined && policy.templates.length > 0) {
    const value = claims[policy.template.claim];
    tenant = `, ${policy.template.claim} ${value === undefined ? 'is absent' : `is ${shown(value)}`}${
      allowedTenant(claims, policy) === undefined && value !== undefined ? ', not in `tenants`' : ''
    }`;
  }
  reject('issuer', 'the token was not issued by the expected issuer', {
    detail: `iss is ${shown(claims.iss)}${tenant}; expected ${describeExpected(policy)} (the \`issuer\` option)`,
  });
}

/**
 * Whether a key may sign for this token: with `keyIssuer`, a key's own `issuer` member (Entra
 * publishes one per key), its placeholder filled from the token's claim, must be an issuer
 * accepted for the token. A key without the member may sign for any accepted issuer.
 */
export function keyMaySign(
  keyIssuer: unknown,
  claims: Readonly<Record<string, unknown>>,
  policy: IssuerPolicy,
): boolean {
  if (!policy.keyIssuer || keyIssuer === undefined) return true;
  if (typeof keyIssuer !== 'string') return false;
  const tenant = policy.template === undefined ? undefined : claims[policy.template.claim];
  const filled =
    policy.template !== undefined && typeof tenant === 'string'
      ? keyIssuer.replaceAll(policy.template.placeholder, tenant)
      : keyIssuer;
  return acceptsIssuer(filled, claims, policy);
}
