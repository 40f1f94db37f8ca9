/**
 * Token exchange (RFC 8693): a token for another audience, resource or type in exchange for a
 * subject token (and, for delegation, an actor token). Three separate steps, as for
 * client-credentials tokens: {@link prepareTokenExchange} checks the caller's options and builds
 * the form, {@link readTokenExchangeResponse} checks and maps the answer, and
 * {@link createTokenExchanger} caches the results per subject, actor and target with one
 * request in flight per slot. Sending (client authentication, DPoP proof, transport) is the
 * client's, injected as `send`.
 */
import type { components } from '../../generated/openapi.js';
import * as schemas from '../../generated/schemas.js';
import { ProtocolError } from '../errors.js';
import { parseBody } from '../transport/idp-client.js';
import { sha256Base64url } from '../crypto/backend.js';
import {
  OptionError,
  optionalBoolean,
  optionKeys,
  rejectUnknownOptions,
  type Clock,
} from '../shared/options.js';
import { normaliseResources, normaliseScopes, type ListInput } from './cache-key.js';
import { earlierExpiry, readUnverifiedExpiry } from './client-assertion.js';
import type { ExchangeSlot, TokenExchangeEvent } from './auth-client-events.js';
import { TokenCache } from './token-cache.js';
import type { GrantSender } from './fetch-token.js';
import { readTokenResponse } from './token-response.js';
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

/**
 * A token issued by token exchange (RFC 8693 §2.2.1).
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.2.1
 */
export interface ExchangedToken {
  /** The issued token, whatever its type (the member's name is historical). */
  access_token: string;
  /** What was issued, one of {@link TokenTypes} or a server-defined URI. */
  issued_token_type: string;
  /**
   * How to present it: `'Bearer'`, `'DPoP'` (bound to the client's DPoP key), or `'N_A'` when
   * it is not an access token (an ID token, a SAML assertion).
   */
  token_type: 'Bearer' | 'DPoP' | 'N_A';
  /** Lifetime in seconds, as the server said. */
  expires_in?: number;
  /**
   * When the token stops being usable (epoch seconds): the server's expiry, but never later
   * than the `exp` of the subject or actor token when those are JWTs.
   */
  expires_at?: number;
  /** The granted scopes, when the server said. */
  scope?: string;
}

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

function invalid(where: string, option: string, problem: string): OptionError {
  return new OptionError(`${where}: \`${option}\` ${problem}`, 'ERR_INVALID_OPTION', option);
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

/**
 * The cache key of an exchange: base64url(SHA-256) of the subject and actor tokens, their types
 * and the normalised target (audiences, resources, scopes, requested type). The tokens are not
 * kept: a key says nothing about them, and a store or log that sees it learns nothing.
 */
export async function tokenExchangeCacheKey(request: TokenExchangeRequest): Promise<string> {
  return `exchange:${await sha256Base64url(JSON.stringify(request.identity))}`;
}

/** The body of a token exchange request, as generated from `openapi.yaml`. */
export type TokenExchangeRequestBody = components['schemas']['TokenExchangeRequest'];

/** The validated body of a token exchange answer, as generated from `openapi.yaml`. */
export type TokenExchangeResponseBody = components['schemas']['TokenExchangeResponse'];

/** What {@link readTokenExchangeResponse} needs besides the body. */
export interface TokenExchangeResponseContext {
  /** Whether the request carried a DPoP proof. */
  dpop: boolean;
  /** When the request left (epoch ms, injected clock): the lifetime counts from there. */
  sentAtMs: number;
  /** Who answered, for error messages ("the authorization server's token endpoint"). */
  where: string;
  /** {@link TokenExchangeRequest.notAfter}: the issued token's expiry is capped at it. */
  notAfter: number | undefined;
}

/** A `token_type` shown in an error only when it is plainly a word. */
function describeTokenType(value: string): string {
  return /^[A-Za-z0-9_.-]{1,32}$/.test(value) ? `"${value}"` : 'a value that is not a token type';
}

const presentations = { bearer: 'Bearer', dpop: 'DPoP', n_a: 'N_A' } as const;

/**
 * Checks a schema-valid token exchange answer (RFC 8693 §2.2.1) and maps it to an
 * {@link ExchangedToken}, or throws a {@link ProtocolError}:
 *
 * - `issued_token_type` must be a token type URI (code `schema`).
 * - `token_type` is compared case-insensitively and must be one the client can use (code
 *   `token_type`): with a DPoP proof, `DPoP` or `N_A` (RFC 9449 §5: a Bearer answer would
 *   downgrade the token to one anyone holding it can use); without, `Bearer` or `N_A`.
 * - `access_token`, `expires_in` and `scope` follow the same rules as a client-credentials
 *   answer (printable ASCII, a positive bounded lifetime, scope-token characters).
 *
 * `expires_at` is the server's expiry capped at `notAfter`: a token bought with a subject token
 * is not served after the subject token itself expires.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.2.1
 */
export function readTokenExchangeResponse(
  body: TokenExchangeResponseBody,
  context: TokenExchangeResponseContext,
): ExchangedToken {
  const { where } = context;
  if (!isTokenTypeUri(body.issued_token_type)) {
    const issue = {
      path: 'issued_token_type',
      code: 'invalid_uri',
      message: 'issued_token_type: expected a token type URI (RFC 8693 §3)',
    };
    throw new ProtocolError(
      `${where} answered with a token this client must not use (${issue.message})`,
      [issue],
      'schema',
    );
  }
  const presentation = (presentations as Record<string, ExchangedToken['token_type'] | undefined>)[
    body.token_type.toLowerCase()
  ];
  const usable = context.dpop ? ['DPoP', 'N_A'] : ['Bearer', 'N_A'];
  if (presentation === undefined || !usable.includes(presentation)) {
    const expected = context.dpop
      ? '"DPoP" (or "N_A" for a token that is not an access token) for a request with a DPoP proof (RFC 9449 §5)'
      : '"Bearer" or "N_A" (RFC 8693 §2.2.1)';
    const issue = {
      path: 'token_type',
      code: context.dpop ? 'dpop_required' : 'unsupported_token_type',
      message: `token_type: expected ${expected}, found ${describeTokenType(body.token_type)}`,
    };
    throw new ProtocolError(
      `${where} answered with a token this client must not use (${issue.message})`,
      [issue],
      'token_type',
    );
  }
  // The rest of the answer follows the rules of RFC 6749 §5.1, checked in one place.
  const checked = readTokenResponse(
    {
      access_token: body.access_token,
      token_type: context.dpop ? 'DPoP' : 'Bearer',
      ...(body.expires_in === undefined ? {} : { expires_in: body.expires_in }),
      ...(body.scope === undefined ? {} : { scope: body.scope }),
    },
    { dpop: context.dpop, sentAtMs: context.sentAtMs, where },
  );
  const token: ExchangedToken = {
    access_token: checked.access_token,
    issued_token_type: body.issued_token_type,
    token_type: presentation,
  };
  if (checked.expires_in !== undefined) token.expires_in = checked.expires_in;
  const expiresAt = earlierExpiry(checked.expires_at, context.notAfter);
  if (expiresAt !== undefined) token.expires_at = expiresAt;
  if (checked.scope !== undefined) token.scope = checked.scope;
  return Object.freeze(token);
}

/**
 * When to stop serving a cached token (epoch ms): `skewMs` before it expires, or half way
 * through a life shorter than the skew, so a short-lived token is still reused a little.
 */
export function refreshAtMs(issuedAtMs: number, expiresAt: number, skewMs: number): number {
  const expiresAtMs = expiresAt * 1000;
  const lifetimeMs = expiresAtMs - issuedAtMs;
  return lifetimeMs > skewMs ? expiresAtMs - skewMs : issuedAtMs + lifetimeMs / 2;
}

/** What a {@link TokenExchanger} needs. */
export interface TokenExchangerOptions {
  /**
   * Sends one exchange and returns the checked token: the client authenticates, adds a DPoP
   * proof when DPoP is on, sends `request.parameters` to the token endpoint, and maps the answer
   * with {@link readTokenExchangeResponse}. Errors reach every caller waiting on that slot and
   * are never cached.
   */
  send: (request: TokenExchangeRequest) => Promise<ExchangedToken>;
  now: Clock;
  /** Stop serving a cached token this long before it expires. */
  refreshSkewSeconds: number;
  /** The most exchanged tokens kept; past it the least recently stored goes. Default: 1000. */
  maxEntries?: number | undefined;
  /** Observability: cache hits and misses, exchanged tokens and failures. Default: none. */
  emit?: ((event: TokenExchangeEvent) => void) | undefined;
}

/** The target of an exchange, for events: never the subject or actor token. */
export function exchangeSlotOf(request: TokenExchangeRequest): ExchangeSlot {
  const { audience, resource, scope, requested_token_type } = request.parameters;
  const slot: ExchangeSlot = {
    audience: audience ?? [],
    resource: resource ?? [],
    scope: scope ?? '',
  };
  if (requested_token_type !== undefined) slot.requestedTokenType = requested_token_type;
  return slot;
}

/** Exchanges tokens, caching each result per subject, actor and target. */
export interface TokenExchanger {
  /** An exchanged token for `options`: from the cache while fresh, otherwise one request. */
  exchange(options: ExchangeTokenOptions): Promise<ExchangedToken>;
  /** Drops every cached exchanged token. */
  clear(): void;
}

/**
 * The cache and single flight of token exchange. A slot is keyed by
 * {@link tokenExchangeCacheKey}; concurrent callers for one slot share one request; a failure is
 * not cached; `forceRefresh` skips the cache and replaces the slot. A token is served until
 * `refreshSkewSeconds` before its `expires_at` (which is never past the subject token's `exp`);
 * a token whose expiry is unknown is not cached at all, since nothing says when the subject's
 * grant behind it ends.
 */
export function createTokenExchanger(options: TokenExchangerOptions): TokenExchanger {
  const { send, now, emit } = options;
  const skewMs = options.refreshSkewSeconds * 1000;
  const cache = new TokenCache<ExchangedToken>(options.maxEntries ?? 1000);
  return {
    async exchange(exchangeOptions) {
      const request = prepareTokenExchange(exchangeOptions);
      const key = await tokenExchangeCacheKey(request);
      const slot = exchangeSlotOf(request);
      if (!request.forceRefresh) {
        const fresh = cache.fresh(key, now().getTime());
        if (fresh !== undefined) {
          emit?.({ type: 'exchange_cache_hit', slot });
          return fresh;
        }
        emit?.({ type: 'exchange_cache_miss', slot });
      }
      return cache.load(key, async () => {
        const sentAtMs = now().getTime();
        let token: ExchangedToken;
        try {
          token = await send(request);
        } catch (error) {
          emit?.({ type: 'token_exchange_failed', slot, error });
          throw error;
        }
        emit?.({
          type: 'token_exchanged',
          slot,
          tokenType: token.token_type,
          issuedTokenType: token.issued_token_type,
          expiresAt: token.expires_at,
          durationMs: now().getTime() - sentAtMs,
          forced: request.forceRefresh,
        });
        return {
          value: token,
          refreshAtMs:
            token.expires_at === undefined
              ? sentAtMs
              : refreshAtMs(sentAtMs, token.expires_at, skewMs),
        };
      });
    },
    clear: () => cache.clear(),
  };
}

/**
 * Sends one token exchange (RFC 8693 §2.1) on the client's send path and reads its answer
 * (RFC 8693 §2.2.1): the token is not served past the subject or actor token, nor past the
 * client assertion the request carried.
 */
export async function sendTokenExchange(
  send: GrantSender,
  request: TokenExchangeRequest,
): Promise<ExchangedToken> {
  const { token } = await send({
    form: request.parameters,
    secrets: request.secrets,
    read: (answer, call, { dpop, sentAtMs, notAfter }) =>
      readTokenExchangeResponse(parseBody(answer, schemas.TokenExchangeResponse, call), {
        dpop,
        sentAtMs,
        where: `the authorization server's ${call.endpoint}`,
        notAfter: earlierExpiry(request.notAfter, notAfter),
      }),
  });
  return token;
}
