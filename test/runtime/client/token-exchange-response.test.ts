/**
 * The answer to a token exchange (RFC 8693 §2.2.1): the schema, the checks of a schema-valid
 * body and its mapping, never past the subject token's exp, and the whole answer read through
 * the transport, errors included.
 */
import { describe, expect, it } from 'vitest';
import * as schemas from '../../../src/generated/schemas.js';
import {
  prepareTokenExchange,
  type TokenExchangeRequest,
} from '../../../src/runtime/client/token-exchange-request.js';
import {
  processTokenExchangeResponse,
  readTokenExchangeResponse,
  type TokenExchangeResponseBody,
} from '../../../src/runtime/client/token-exchange-response.js';
import { TokenTypes } from '../../../src/runtime/client/token-types.js';
import { OAuthError, ProtocolError } from '../../../src/runtime/errors.js';
import {
  createIdpClient,
  exchange,
  type IdpCall,
} from '../../../src/runtime/transport/idp-client.js';
import { toOAuthError } from '../../../src/runtime/transport/idp-answer.js';
import { validate } from '../../../src/runtime/shared/validate.js';
import { manualClock } from '../fake-fetch.js';
import { shown, thrownBy } from '../../support/caught.js';
import { nowSeconds, subjectToken } from '../../support/token-exchange-fixtures.js';

const clock = manualClock();
const protocolError = (run: () => unknown) => thrownBy(run, ProtocolError);

describe('the token exchange answer schema', () => {
  it('requires issued_token_type (RFC 8693 §2.2.1)', () => {
    const result = validate(schemas.TokenExchangeResponse, {
      access_token: 'a',
      token_type: 'Bearer',
    });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((issue) => issue.path.join('.'))).toEqual([
      'issued_token_type',
    ]);
  });
});

describe('readTokenExchangeResponse', () => {
  const sentAtMs = clock.now().getTime();
  const where = "the authorization server's token endpoint";
  const read = (
    body: Partial<TokenExchangeResponseBody>,
    context: { dpop?: boolean; notAfter?: number } = {},
  ) =>
    readTokenExchangeResponse(
      {
        access_token: 'exchanged-token',
        issued_token_type: TokenTypes.accessToken,
        token_type: 'Bearer',
        ...body,
      },
      { dpop: context.dpop ?? false, sentAtMs, where, notAfter: context.notAfter },
    );

  it('maps an answer, token_type compared without case', () => {
    expect(read({ token_type: 'bearer', expires_in: 300, scope: 'ledger:read' })).toEqual({
      access_token: 'exchanged-token',
      issued_token_type: TokenTypes.accessToken,
      token_type: 'Bearer',
      expires_in: 300,
      expires_at: nowSeconds + 300,
      scope: 'ledger:read',
    });
    expect(read({ token_type: 'dpop' }, { dpop: true }).token_type).toBe('DPoP');
    expect(read({ token_type: 'n_a', issued_token_type: TokenTypes.idToken }).token_type).toBe(
      'N_A',
    );
  });

  it('accepts N_A for a token that is not an access token, with or without DPoP', () => {
    expect(
      read({ token_type: 'N_A', issued_token_type: TokenTypes.jwt }, { dpop: true }),
    ).toMatchObject({
      token_type: 'N_A',
      issued_token_type: TokenTypes.jwt,
    });
  });

  it('refuses a Bearer answer to a request with a DPoP proof (RFC 9449 §5)', () => {
    const error = protocolError(() => read({ token_type: 'Bearer' }, { dpop: true }));
    expect(error.code).toBe('token_type');
    expect(error.cause).toEqual([
      expect.objectContaining({ path: 'token_type', code: 'dpop_required' }),
    ]);
  });

  it('refuses a DPoP answer without a DPoP proof, and an unknown token_type', () => {
    expect(protocolError(() => read({ token_type: 'DPoP' })).code).toBe('token_type');
    const error = protocolError(() => read({ token_type: 'MAC' }));
    expect(error.code).toBe('token_type');
    expect(error.message).toContain('found "MAC"');
  });

  it('refuses an issued_token_type that is not a URI', () => {
    const error = protocolError(() => read({ issued_token_type: 'access_token' }));
    expect(error.code).toBe('schema');
    expect(error.cause).toEqual([expect.objectContaining({ path: 'issued_token_type' })]);
  });

  it('holds the token and lifetime to the client-credentials rules', () => {
    expect(protocolError(() => read({ access_token: 'bad\ntoken' })).code).toBe('invalid_token');
    expect(protocolError(() => read({ expires_in: 0 })).code).toBe('expires_in');
    expect(protocolError(() => read({ scope: 'a"b' })).code).toBe('scope');
  });

  it('never serves the token past the subject token’s exp', () => {
    expect(read({ expires_in: 3600 }, { notAfter: nowSeconds + 120 }).expires_at).toBe(
      nowSeconds + 120,
    );
    expect(read({ expires_in: 60 }, { notAfter: nowSeconds + 120 }).expires_at).toBe(
      nowSeconds + 60,
    );
    expect(read({}, { notAfter: nowSeconds + 120 }).expires_at).toBe(nowSeconds + 120);
  });
});

describe('a token exchange sent through the transport', () => {
  /** The `send` a client composes: transport, answer schema, answer checks, OAuth errors. */
  async function send(request: TokenExchangeRequest, answer: Response) {
    const call: IdpCall = {
      client: createIdpClient(async () => answer),
      url: 'https://idp.example.test/token',
      endpoint: 'token endpoint',
      timeoutMs: 1000,
      secrets: request.secrets,
    };
    const sentAtMs = clock.now().getTime();
    const result = await exchange(call, (middleware) =>
      call.client.POST('/token', {
        body: request.parameters,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        parseAs: 'text',
        middleware,
      }),
    );
    if (!result.response.ok) throw toOAuthError(result, call);
    return processTokenExchangeResponse(result, call, {
      dpop: false,
      sentAtMs,
      notAfter: request.notAfter,
    });
  }
  const request = prepareTokenExchange({
    subjectToken,
    subjectTokenType: TokenTypes.accessToken,
    audience: 'ledger-api',
  });

  it('turns an RFC 8693 §2.2.2 error into an OAuthError with its code, the echoed subject token scrubbed', async () => {
    const error = await send(
      request,
      new Response(
        JSON.stringify({
          error: 'invalid_request',
          error_description: `bad token ${subjectToken}`,
        }),
        { status: 400, headers: { 'content-type': 'application/json' } },
      ),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(shown(error)).not.toContain(subjectToken);
    expect(shown(error)).not.toContain(subjectToken.split('.')[1]);
  });

  it('refuses a 2xx answer without issued_token_type as a ProtocolError schema', async () => {
    const error = await send(
      request,
      new Response(JSON.stringify({ access_token: 'a', token_type: 'Bearer' }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'schema' });
  });

  it('hands out the token of a good answer, capped at the subject token’s exp', async () => {
    const token = await send(
      request,
      new Response(
        JSON.stringify({
          access_token: 'downstream',
          issued_token_type: TokenTypes.accessToken,
          token_type: 'Bearer',
          expires_in: 3600,
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      ),
    );
    expect(token).toMatchObject({ access_token: 'downstream', expires_at: nowSeconds + 600 });
  });
});
