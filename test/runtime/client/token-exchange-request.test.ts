/**
 * The request of a token exchange (RFC 8693 §2.1): the checks of the caller's options, the form,
 * and the subject's expiry noted for the answer.
 */
import { describe, expect, it } from 'vitest';
import {
  prepareTokenExchange,
  TOKEN_EXCHANGE_GRANT_TYPE,
  type ExchangeTokenOptions,
} from '../../../src/runtime/client/token-exchange-request.js';
import { TokenTypes } from '../../../src/runtime/client/token-types.js';
import { OptionError } from '../../../src/runtime/shared/options.js';
import { shown, thrownBy } from '../../support/caught.js';
import { actorToken, nowSeconds, subjectToken } from '../../support/token-exchange-fixtures.js';

function optionError(run: () => unknown): OptionError {
  const error = thrownBy(run, OptionError);
  expect(error).toBeInstanceOf(TypeError);
  return error;
}

describe('prepareTokenExchange', () => {
  it('builds the RFC 8693 §2.1 form, targets sorted and de-duplicated', () => {
    const request = prepareTokenExchange({
      subjectToken,
      subjectTokenType: TokenTypes.accessToken,
      actorToken,
      actorTokenType: TokenTypes.jwt,
      requestedTokenType: TokenTypes.accessToken,
      audience: ['ledger-api', 'billing-api', 'ledger-api'],
      resource: 'https://ledger.example.test/',
      scope: 'ledger:write ledger:read',
    });
    expect(request.parameters).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      actor_token: actorToken,
      actor_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: ['billing-api', 'ledger-api'],
      resource: ['https://ledger.example.test/'],
      scope: 'ledger:read ledger:write',
    });
    expect(request.secrets).toEqual([subjectToken, actorToken]);
    expect(TOKEN_EXCHANGE_GRANT_TYPE).toBe(request.parameters.grant_type);
  });

  it('leaves out every member that was not asked for', () => {
    const { parameters } = prepareTokenExchange({
      subjectToken: 'opaque-subject',
      subjectTokenType: TokenTypes.accessToken,
    });
    expect(Object.keys(parameters).sort()).toEqual([
      'grant_type',
      'subject_token',
      'subject_token_type',
    ]);
  });

  it('refuses actorTokenType without actorToken (RFC 8693 §2.1)', () => {
    const error = optionError(() =>
      prepareTokenExchange({
        subjectToken,
        subjectTokenType: TokenTypes.accessToken,
        actorTokenType: TokenTypes.accessToken,
      }),
    );
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'actorTokenType' });
    expect(error.message).toContain('without `actorToken`');
  });

  it('requires actorTokenType with actorToken (RFC 8693 §2.1)', () => {
    const error = optionError(() =>
      prepareTokenExchange({ subjectToken, subjectTokenType: TokenTypes.accessToken, actorToken }),
    );
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'actorTokenType' });
    expect(error.message).toContain('is required with `actorToken`');
    expect(shown(error)).not.toContain(actorToken);
  });

  it('refuses a subject token type that is not a URI, without echoing it or the token', () => {
    const error = optionError(() =>
      prepareTokenExchange({ subjectToken, subjectTokenType: 'access_token' }),
    );
    expect(error).toMatchObject({ option: 'subjectTokenType' });
    expect(shown(error)).not.toContain(subjectToken);
  });

  it('refuses a requested token type that is not a URI', () => {
    expect(
      optionError(() =>
        prepareTokenExchange({
          subjectToken,
          subjectTokenType: TokenTypes.accessToken,
          requestedTokenType: 'jwt',
        }),
      ),
    ).toMatchObject({ option: 'requestedTokenType' });
  });

  it('refuses an empty or missing subject token', () => {
    for (const value of ['', undefined, 42]) {
      expect(
        optionError(() =>
          prepareTokenExchange({
            subjectToken: value as string,
            subjectTokenType: TokenTypes.accessToken,
          }),
        ),
      ).toMatchObject({ option: 'subjectToken' });
    }
  });

  it('refuses an audience with white space, and a resource that is not an absolute URI', () => {
    const base = { subjectToken, subjectTokenType: TokenTypes.accessToken };
    expect(
      optionError(() => prepareTokenExchange({ ...base, audience: 'ledger api' })),
    ).toMatchObject({ option: 'audience' });
    expect(() => prepareTokenExchange({ ...base, resource: 'ledger' })).toThrow(TypeError);
  });

  it('refuses an unknown option, naming the closest known one', () => {
    const error = optionError(() =>
      prepareTokenExchange({
        subjectToken,
        subjectTokenType: TokenTypes.accessToken,
        audiences: 'ledger-api',
      } as ExchangeTokenOptions),
    );
    expect(error.code).toBe('ERR_UNKNOWN_OPTION');
    expect(error.message).toContain('audience');
  });

  it('notes the earliest exp of the subject and actor tokens, and none for opaque tokens', () => {
    const base = { subjectToken, subjectTokenType: TokenTypes.accessToken };
    expect(prepareTokenExchange(base).notAfter).toBe(nowSeconds + 600);
    expect(
      prepareTokenExchange({ ...base, actorToken, actorTokenType: TokenTypes.accessToken })
        .notAfter,
    ).toBe(nowSeconds + 300);
    expect(
      prepareTokenExchange({ subjectToken: 'opaque', subjectTokenType: TokenTypes.accessToken })
        .notAfter,
    ).toBeUndefined();
  });
});
