/**
 * The check of a resource server's options at factory time: every option is validated (a bad
 * one is a `TypeError` naming it) and every default filled in.
 */
import { profiles } from '../profiles/index.js';
import type { ProfileName } from '../profiles/types.js';
import { ASYMMETRIC_ALGORITHMS } from '../crypto/algorithms.js';
import { applyAliases, givenName, rejectUnknownAliasedOptions } from '../shared/aliases.js';
import { emitter } from '../shared/events.js';
import {
  optionalBoolean,
  optionalPositiveNumber,
  rejectUnknownOptions,
  resolveClock,
  resolveFetch,
  type Clock,
  type FetchLike,
} from '../shared/options.js';
import { requireHttpUrl } from '../shared/url.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../transport/idp-client.js';
import { validateAlgorithms } from './algorithm-option.js';
import { createRotatingNonceProvider, type DpopNonceProvider } from './dpop-nonce.js';
import { resolveIntrospectionOptions } from './introspection-options.js';
import { resolveIssuerPolicy } from './issuer-policy.js';
import { createMemoryReplayStore, type ReplayStore } from './replay-store.js';
import type { ResourceServerEvent } from './resource-server-events.js';
import {
  DPOP_OPTION_KEYS,
  NONCE_OPTION_KEYS,
  RESOURCE_SERVER_ALIASES,
  RESOURCE_SERVER_OPTION_KEYS,
  type ResourceServerOptions,
} from './resource-server-options.js';
import { resolveTokenPolicy } from './token-policy-options.js';
import { validateAudience, validateScopes } from './verify-options.js';

const WHERE = 'createResourceServer';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validateProfile(value: unknown): ProfileName | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !Object.hasOwn(profiles, value)) {
    throw new TypeError(
      `${WHERE}: \`profile\` must be one of ${Object.keys(profiles)
        .map((name) => `'${name}'`)
        .join(', ')}`,
    );
  }
  return value as ProfileName;
}

/** `audience` is required; `null` is the explicit, documented way to go without the check. */
function requireAudience(value: unknown): readonly string[] | undefined {
  if (value === undefined) {
    throw new TypeError(
      `${WHERE}: \`audience\` is required: the \`aud\` to accept, or \`null\` to accept any (which RFC 9068 §4 forbids)`,
    );
  }
  return value === null ? undefined : validateAudience(value, WHERE);
}

function validateReplayStore(value: unknown, now: Clock): ReplayStore {
  if (value === undefined) return createMemoryReplayStore({ now });
  if (!isObject(value) || typeof value.checkAndSet !== 'function') {
    throw new TypeError(
      `${WHERE}: \`replayStore\` must have a checkAndSet(key, ttlSeconds) method`,
    );
  }
  return value as unknown as ReplayStore;
}

function validateNonce(value: unknown, now: Clock): DpopNonceProvider | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return createRotatingNonceProvider(300, now);
  if (
    isObject(value) &&
    typeof value.current === 'function' &&
    typeof value.isValid === 'function'
  ) {
    return value as unknown as DpopNonceProvider;
  }
  if (isObject(value) && !('current' in value) && !('isValid' in value)) {
    rejectUnknownOptions(value, NONCE_OPTION_KEYS, WHERE, 'dpop.nonce');
    const lifetime = optionalPositiveNumber(
      value.lifetimeSeconds,
      'dpop.nonce.lifetimeSeconds',
      WHERE,
      300,
    );
    return createRotatingNonceProvider(lifetime, now);
  }
  throw new TypeError(
    `${WHERE}: \`dpop.nonce\` must be a boolean, { lifetimeSeconds }, or an object with current() and isValid(nonce)`,
  );
}

function validateRealm(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(value)) {
    throw new TypeError(`${WHERE}: \`realm\` must be printable ASCII without '"' or '\\'`);
  }
  return value;
}

/** Checks every option when the factory is called; a bad one is a `TypeError` naming it. */
export function resolveOptions(options: unknown) {
  if (!isObject(options)) {
    throw new TypeError(`${WHERE}: options must be an object with at least \`issuer\``);
  }
  rejectUnknownAliasedOptions(options, RESOURCE_SERVER_OPTION_KEYS, RESOURCE_SERVER_ALIASES, WHERE);
  const o = applyAliases(options, RESOURCE_SERVER_ALIASES, WHERE) as Partial<
    Record<keyof ResourceServerOptions, unknown>
  >;
  const allowInsecureHttp = optionalBoolean(o.allowInsecureHttp, 'allowInsecureHttp', WHERE, false);
  const profile = validateProfile(o.profile);
  const profileRules = profile === undefined ? undefined : profiles[profile].server;
  const issuers = resolveIssuerPolicy(o, profileRules, WHERE, { allowInsecureHttp });
  const policy = resolveTokenPolicy(o, profileRules, WHERE);
  const now = resolveClock(o.now as Clock | undefined, WHERE);
  const fetch = resolveFetch(o.fetch as FetchLike | undefined, WHERE);

  const dpop = o.dpop ?? {};
  if (!isObject(dpop)) throw new TypeError(`${WHERE}: \`dpop\` must be an object`);
  rejectUnknownOptions(dpop, DPOP_OPTION_KEYS, WHERE, 'dpop');
  if (dpop.required !== undefined && typeof dpop.required !== 'boolean') {
    throw new TypeError(`${WHERE}: \`dpop.required\` must be a boolean`);
  }

  const jwksCacheMaxAgeSeconds = optionalPositiveNumber(
    o.jwksCacheMaxAgeSeconds,
    'jwksCacheMaxAgeSeconds',
    WHERE,
    600,
  );
  const jwksMaxStaleSeconds = optionalPositiveNumber(
    o.jwksMaxStaleSeconds,
    'jwksMaxStaleSeconds',
    WHERE,
    Math.max(3600, jwksCacheMaxAgeSeconds),
  );
  if (jwksMaxStaleSeconds < jwksCacheMaxAgeSeconds) {
    throw new TypeError(
      `${WHERE}: \`jwksMaxStaleSeconds\` must be at least \`jwksCacheMaxAgeSeconds\``,
    );
  }
  const maxTokenLength = optionalPositiveNumber(o.maxTokenLength, 'maxTokenLength', WHERE, 16_384);
  if (!Number.isInteger(maxTokenLength)) {
    throw new TypeError(`${WHERE}: \`maxTokenLength\` must be an integer`);
  }

  return {
    /** The issuer discovery starts from; `undefined` with issuer templates only (then `jwksUri`). */
    issuer: issuers.discoveryIssuer,
    /** Every issuer accepted, and the rules for templates and keys' own issuers. */
    issuers,
    audience: requireAudience(o.audience),
    clockToleranceSeconds: optionalPositiveNumber(
      o.clockToleranceSeconds,
      'clockToleranceSeconds',
      WHERE,
      30,
      {
        allowZero: true,
      },
    ),
    algorithms: validateAlgorithms(o.algorithms, 'algorithms', WHERE, ASYMMETRIC_ALGORITHMS),
    jwksUri:
      o.jwksUri === undefined
        ? undefined
        : requireHttpUrl(o.jwksUri, 'jwksUri', WHERE, { allowInsecureHttp }),
    requiredScopes: validateScopes(
      o.requiredScopes,
      WHERE,
      givenName(options, 'requiredScopes', RESOURCE_SERVER_ALIASES),
    ),
    /** `typ`, markers, client allow-list and scope claims, the profile's filled in. */
    policy,
    fetch,
    now,
    replayStore: validateReplayStore(o.replayStore, now),
    emit: emitter(o.onEvent as ((event: ResourceServerEvent) => void) | undefined),
    dpopRequired: dpop.required === true,
    dpopAlgorithms: validateAlgorithms(
      dpop.algorithms,
      'dpop.algorithms',
      WHERE,
      ASYMMETRIC_ALGORITHMS,
    ),
    iatWindowSeconds: optionalPositiveNumber(
      dpop.iatWindowSeconds,
      'dpop.iatWindowSeconds',
      WHERE,
      60,
    ),
    nonce: validateNonce(dpop.nonce, now),
    jwksCacheMaxAgeSeconds,
    jwksCooldownSeconds: optionalPositiveNumber(
      o.jwksCooldownSeconds,
      'jwksCooldownSeconds',
      WHERE,
      30,
      {
        allowZero: true,
      },
    ),
    jwksMaxStaleSeconds,
    timeoutMs: optionalPositiveNumber(o.timeoutMs, 'timeoutMs', WHERE, 5000),
    maxResponseBytes: optionalPositiveNumber(
      o.maxResponseBytes,
      'maxResponseBytes',
      WHERE,
      DEFAULT_MAX_RESPONSE_BYTES,
    ),
    maxTokenLength,
    realm: validateRealm(o.realm),
    /** Plain `http:` to hosts other than loopback is accepted (for discovered endpoints too). */
    allowInsecureHttp,
    /** Opaque tokens are introspected with these; `undefined`: they are refused. */
    introspection: resolveIntrospectionOptions(
      o.introspection,
      WHERE,
      allowInsecureHttp,
      o.fetch !== undefined,
    ),
  };
}

/** The options, checked and with defaults filled in. */
export type ResolvedOptions = ReturnType<typeof resolveOptions>;
