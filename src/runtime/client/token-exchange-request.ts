/**
 * The request of a token exchange (RFC 8693 §2.1): the caller's options checked, the form built,
 * and what the rest of the exchange needs of it (the tokens to scrub, the subject's expiry, the
 * normalised target for the cache key). Reading the answer is `token-exchange-response.ts`;
 * caching and sending, `token-exchange.ts`.
 */
import type { components } from '../../generated/openapi.js';
import {
  optionalBoolean,
  optionKeys,
  rejectUnknownOptions,
  type OptionError,
} from '../shared/options.js';
import { normaliseResources, normaliseScopes, type ListInput } from './cache-key.js';
import { earlierExpiry, readUnverifiedExpiry } from './client-assertion.js';
import { invalid } from './token-request.js';
import { isTokenTypeUri, type TokenType } from './token-types.js';

/** The `grant_type` of token exchange (RFC 8693 §2.1). */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange' as const;

/**
 * What `exchangeToken` takes.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */
export interface ExchangeTokenOptions {
  /** The token of the party the new token is for: an incoming access token, an ID token, … */
  subjectToken: string;
  /** Its type, one of {@link TokenTypes} or a server-defined URI. */
  subjectTokenType: TokenType;
  /**
   * The token of the party acting on the subject's behalf (delegation, RFC 8693 §1.1): this
   * service's own token, say. Default: none (impersonation).
   */
  actorToken?: string | undefined;
  /** Its type; required with `actorToken`, refused without it (RFC 8693 §2.1). */
  actorTokenType?: TokenType | undefined;
  /** The type of token wanted. Default: none, the server's choice (usually an access token). */
  requestedTokenType?: TokenType | undefined;
  /** Logical names of the target services (RFC 8693 §2.1 `audience`): a string or a list. */
  audience?: ListInput | undefined;
  /** Target services as absolute URIs without fragment (RFC 8693 §2.1, RFC 8707). */
  resource?: ListInput | undefined;
  /** Scopes wanted, space-separated or as a list (RFC 6749 §3.3). */
  scope?: ListInput | undefined;
  /** Skip the cache and replace its slot. Default: `false`. */
  forceRefresh?: boolean | undefined;
}

const exchangeOptionKeys = optionKeys<ExchangeTokenOptions>()([
  'subjectToken',
  'subjectTokenType',
  'actorToken',
  'actorTokenType',
  'requestedTokenType',
  'audience',
  'resource',
  'scope',
  'forceRefresh',
]);

/** The body of a token exchange request, as generated from `openapi.yaml`. */
export type TokenExchangeRequestBody = components['schemas']['TokenExchangeRequest'];

/** One exchange, checked and ready to send. */
export interface TokenExchangeRequest {
  /**
   * The form members, `grant_type` included, typed as the spec's request body; the client's
   * credentials are added by the sender.
   */
  readonly parameters: Readonly<TokenExchangeRequestBody>;
  /** The subject and actor tokens: to scrub from anything the server echoes into an error. */
  readonly secrets: readonly string[];
  /**
   * The earliest `exp` of the subject and actor tokens, when they are JWTs (read, not verified):
   * the issued token is not served past it.
   */
  readonly notAfter: number | undefined;
  /** Whether the caller asked to skip the cache. */
  readonly forceRefresh: boolean;
  /** The normalised request, for the cache key. */
  readonly identity: readonly unknown[];
}

function requireToken(value: unknown, option: string, where: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalid(where, option, `must be a non-empty string, got ${typeOf(value)}`);
  }
  return value;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value === '') return 'an empty string';
  return typeof value;
}

function tokenType(value: unknown, option: string, where: string): string {
  if (!isTokenTypeUri(value)) {
    throw invalid(
      where,
      option,
      `must be a token type URI, such as TokenTypes.accessToken (RFC 8693 §3), got ${
        typeof value === 'string' ? 'a string that is not an absolute URI' : typeOf(value)
      }`,
    );
  }
  return value;
}

/** Audience names: no white space or control characters (each is one form parameter), sorted. */
function normaliseAudiences(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  const list: unknown[] =
    typeof value === 'string' ? [value] : Array.isArray(value) ? value : [value];
  for (const item of list) {
    if (typeof item !== 'string' || item.length === 0 || /[\u0000-\u0020\u007f]/.test(item)) {
      throw invalid(
        where,
        'audience',
        'must be non-empty names without white space, as a string or string[] (RFC 8693 §2.1)',
      );
    }
  }
  return [...new Set(list as string[])].sort();
}

/**
 * Checks the options of one exchange and builds its form (RFC 8693 §2.1). Bad options are an
 * {@link OptionError} (a `TypeError`) naming the option, never its value: an unknown key, a
 * missing or empty token, a type that is not a URI, `actorTokenType` without `actorToken` or
 * the other way round, an audience with white space, a resource that is not an absolute URI
 * without fragment, a scope with characters outside RFC 6749 §3.3.
 *
 * Audiences, resources and scopes are sorted and de-duplicated, so `'a b'` and `['b', 'a']`
 * make the same request and share a cache slot.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */
export function prepareTokenExchange(
  options: ExchangeTokenOptions,
  where = 'exchangeToken',
): TokenExchangeRequest {
  rejectUnknownOptions(options, exchangeOptionKeys, where);
  const subjectToken = requireToken(options.subjectToken, 'subjectToken', where);
  const subjectTokenType = tokenType(options.subjectTokenType, 'subjectTokenType', where);
  const { actorToken, actorTokenType } = options;
  if (actorToken === undefined && actorTokenType !== undefined) {
    throw invalid(
      where,
      'actorTokenType',
      'is given without `actorToken`: RFC 8693 §2.1 sends the actor token type only with an actor token',
    );
  }
  if (actorToken !== undefined) {
    requireToken(actorToken, 'actorToken', where);
    if (actorTokenType === undefined) {
      throw invalid(
        where,
        'actorTokenType',
        'is required with `actorToken` (RFC 8693 §2.1): say what kind of token it is, such as TokenTypes.accessToken',
      );
    }
    tokenType(actorTokenType, 'actorTokenType', where);
  }
  const requestedTokenType =
    options.requestedTokenType === undefined
      ? undefined
      : tokenType(options.requestedTokenType, 'requestedTokenType', where);
  const audiences = normaliseAudiences(options.audience, where);
  const resources = normaliseResources(options.resource, where);
  const scopes = normaliseScopes(options.scope, where);
  const forceRefresh = optionalBoolean(options.forceRefresh, 'forceRefresh', where, false);

  const parameters: TokenExchangeRequestBody = {
    grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
    subject_token: subjectToken,
    subject_token_type: subjectTokenType,
  };
  if (actorToken !== undefined) {
    parameters.actor_token = actorToken;
    parameters.actor_token_type = actorTokenType;
  }
  if (requestedTokenType !== undefined) parameters.requested_token_type = requestedTokenType;
  if (audiences.length > 0) parameters.audience = audiences;
  if (resources.length > 0) parameters.resource = resources;
  if (scopes.length > 0) parameters.scope = scopes.join(' ');

  const notAfter = earlierExpiry(
    readUnverifiedExpiry(subjectToken),
    actorToken === undefined ? undefined : readUnverifiedExpiry(actorToken),
  );
  return Object.freeze({
    parameters: Object.freeze(parameters),
    secrets: Object.freeze(actorToken === undefined ? [subjectToken] : [subjectToken, actorToken]),
    notAfter,
    forceRefresh,
    identity: Object.freeze([
      subjectToken,
      subjectTokenType,
      actorToken ?? null,
      actorTokenType ?? null,
      requestedTokenType ?? null,
      audiences,
      resources,
      scopes,
    ]),
  });
}
