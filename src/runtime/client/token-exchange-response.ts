/**
 * The answer to a token exchange (RFC 8693 §2.2.1): checked against the spec's schema and the
 * rules a client-credentials answer follows, and mapped to an {@link ExchangedToken} whose
 * expiry never passes the subject's.
 */
import type { components } from '../../generated/openapi.js';
import * as schemas from '../../generated/schemas.js';
import { ProtocolError } from '../errors.js';
import { type IdpAnswer, type IdpCall } from '../transport/idp-client.js';
import { parseBody } from '../transport/idp-answer.js';
import { earlierExpiry } from './client-assertion.js';
import { describeTokenType, readTokenResponse } from './token-response.js';
import { isTokenTypeUri } from './token-types.js';

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
 * Checks a 2xx token exchange answer against the spec's schema, then as
 * {@link readTokenExchangeResponse} does: a body that breaks either is a {@link ProtocolError}.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.2.1
 */
export function processTokenExchangeResponse(
  answer: IdpAnswer,
  call: IdpCall,
  context: Omit<TokenExchangeResponseContext, 'where'>,
): ExchangedToken {
  return readTokenExchangeResponse(parseBody(answer, schemas.TokenExchangeResponse, call), {
    ...context,
    where: `the authorization server's ${call.endpoint}`,
  });
}
