import type { components } from '../../generated/openapi.js';
import * as schemas from '../../generated/schemas.js';
import { decodeBase64urlText } from '../crypto/backend.js';
import { ProtocolError, type ProtocolErrorCode } from '../errors.js';
import { scopeTextSyntax } from '../shared/scope.js';
import { type IdpAnswer, type IdpCall } from '../transport/idp-client.js';
import { parseBody } from '../transport/idp-answer.js';
import type { AccessToken } from './types.js';

type TokenResponseBody = components['schemas']['TokenResponse'];

/** RFC 6749 Appendix A.12: `access-token = 1*VSCHAR`, VSCHAR being `%x20-7E`. */
const accessTokenSyntax = /^[\x20-\x7e]+$/;

/**
 * The longest `expires_in` taken at face value, in seconds: ten years. No authorization server
 * issues access tokens for longer; a larger value is a broken server, not a policy.
 */
export const MAX_EXPIRES_IN_SECONDS = 10 * 365 * 24 * 60 * 60;

/** Whether `value` can be an access token: `1*VSCHAR` (RFC 6749 Appendix A.12). */
export function isAccessTokenSyntax(value: unknown): value is string {
  return typeof value === 'string' && accessTokenSyntax.test(value);
}

/** One way a token response breaks the rules, in the shape of a schema issue (never the value). */
export interface TokenResponseIssue {
  path: string;
  code: string;
  message: string;
}

/** Names the first character outside `allowed` by code point and position, never the text. */
function firstBadCharacter(text: string, allowed: RegExp): string {
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (!allowed.test(char)) {
      const codePoint = text.codePointAt(i) ?? 0;
      return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} at offset ${i}`;
    }
  }
  return 'none';
}

/** A `token_type` shown in an error only when it is plainly a word; anything else is described. */
export function describeTokenType(value: string): string {
  return /^[A-Za-z0-9_.-]{1,32}$/.test(value) ? `"${value}"` : 'a value that is not a token type';
}

/** The {@link ProtocolError} code of each rule, by the member it is about. */
const codes = {
  token_type: 'token_type',
  access_token: 'invalid_token',
  expires_in: 'expires_in',
  scope: 'scope',
} as const satisfies Record<string, ProtocolErrorCode>;

function refuse(where: string, issue: TokenResponseIssue & { path: keyof typeof codes }): never {
  throw new ProtocolError(
    `${where} answered with a token this client must not use (${issue.message})`,
    [issue],
    codes[issue.path],
  );
}

/** The `exp` of a JWT access token, for servers that leave `expires_in` out. */
function decodeJwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json: unknown = JSON.parse(decodeBase64urlText(payload) ?? '');
    const exp = (json as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `expires_in` as a number. The schema lets a string through only when it is 1 to 10 ASCII
 * digits (Microsoft Entra's v1.0 endpoint writes every number as a string, `"3599"`); that is
 * the number it spells, and the range check below applies to it as to any number.
 */
function secondsOf(value: number | string | undefined): number | undefined {
  if (typeof value !== 'string') return value;
  return digitsOnly.test(value) ? Number(value) : Number.NaN;
}

/** A digit-only `expires_in`, as the spec's pattern has it; checked here too, not trusted. */
const digitsOnly = /^[0-9]{1,10}$/;

/** What {@link readTokenResponse} needs besides the body. */
export interface TokenResponseContext {
  /** Whether the request carried a DPoP proof: the token must then be of type `DPoP`. */
  dpop: boolean;
  /** When the request left (epoch ms, injected clock): the lifetime counts from there. */
  sentAtMs: number;
  /** Who answered, for error messages ("the authorization server's token endpoint"). */
  where: string;
}

/**
 * Turns a schema-valid token response (RFC 6749 §5.1) into the token the client hands out, or
 * throws a {@link ProtocolError} whose `cause` lists the one rule broken:
 *
 * - `token_type` is compared case-insensitively (RFC 6749 §7.1, §5.1) and handed out as
 *   `'Bearer'` or `'DPoP'`. A client that sent a DPoP proof takes only `DPoP` (RFC 9449 §5): a
 *   Bearer answer would downgrade a sender-constrained token to one anybody holding it can
 *   use. A client without DPoP takes only `Bearer`: it could not present anything else.
 * - `access_token` is `1*VSCHAR` (RFC 6749 Appendix A.12): a token with CR, LF, NUL, TAB, DEL or
 *   non-ASCII characters cannot go into an `Authorization` header and could forge terminal
 *   output or log lines.
 * - `expires_in` is a positive, finite number of seconds no larger than
 *   {@link MAX_EXPIRES_IN_SECONDS} (RFC 6749 §5.1, Appendix A.14). A string of 1 to 10 digits
 *   (`"3599"`, as Microsoft Entra's v1.0 endpoint sends it) is read as that number; the schema
 *   refuses any other string before this runs.
 * - `scope` holds only scope-token characters and spaces (RFC 6749 §3.3, Appendix A.4).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5
 */
export function readTokenResponse(
  body: TokenResponseBody,
  context: TokenResponseContext,
): AccessToken {
  const { where } = context;
  const type = body.token_type.toLowerCase();
  const expected = context.dpop ? 'dpop' : 'bearer';
  if (type !== expected) {
    refuse(where, {
      path: 'token_type',
      code: context.dpop ? 'dpop_required' : 'unsupported_token_type',
      message: context.dpop
        ? `token_type: expected "DPoP" for a request with a DPoP proof (RFC 9449 §5), found ${describeTokenType(body.token_type)}`
        : `token_type: expected "Bearer", found ${describeTokenType(body.token_type)}`,
    });
  }
  if (!isAccessTokenSyntax(body.access_token)) {
    refuse(where, {
      path: 'access_token',
      code: 'invalid_characters',
      message: `access_token: expected printable ASCII (RFC 6749 Appendix A.12), found ${firstBadCharacter(
        body.access_token,
        accessTokenSyntax,
      )}`,
    });
  }
  const expiresIn = secondsOf(body.expires_in);
  if (
    expiresIn !== undefined &&
    !(Number.isFinite(expiresIn) && expiresIn > 0 && expiresIn <= MAX_EXPIRES_IN_SECONDS)
  ) {
    refuse(where, {
      path: 'expires_in',
      code: 'out_of_range',
      message: `expires_in: expected a number of seconds in (0, ${MAX_EXPIRES_IN_SECONDS}], found ${
        Number.isFinite(expiresIn) ? String(expiresIn) : 'a value that is not finite'
      }`,
    });
  }
  if (body.scope !== undefined && !scopeTextSyntax.test(body.scope)) {
    refuse(where, {
      path: 'scope',
      code: 'invalid_characters',
      message: `scope: expected scope tokens separated by spaces (RFC 6749 §3.3), found ${firstBadCharacter(
        body.scope,
        scopeTextSyntax,
      )}`,
    });
  }
  const token: AccessToken = {
    access_token: body.access_token,
    token_type: type === 'dpop' ? 'DPoP' : 'Bearer',
  };
  // The token was issued no earlier than the request left: count its lifetime from there.
  const expiresAt =
    expiresIn !== undefined
      ? Math.floor(context.sentAtMs / 1000) + expiresIn
      : decodeJwtExpiry(body.access_token);
  if (expiresIn !== undefined) token.expires_in = expiresIn;
  if (expiresAt !== undefined) token.expires_at = expiresAt;
  if (body.scope !== undefined) token.scope = body.scope;
  return token;
}

/**
 * Processes a 2xx answer of the token endpoint: the body must match the spec's
 * `TokenResponse` (a {@link ProtocolError} `schema` or `not_json` otherwise), and then the
 * rules of {@link readTokenResponse}. A non-2xx answer is not for this step: it is an
 * `OAuthError` (`toOAuthError`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 */
export function processTokenResponse(
  answer: IdpAnswer,
  call: IdpCall,
  context: Omit<TokenResponseContext, 'where'>,
): AccessToken {
  const body = parseBody(answer, schemas.TokenResponse, call);
  return readTokenResponse(body, {
    ...context,
    where: `the authorization server's ${call.endpoint}`,
  });
}
