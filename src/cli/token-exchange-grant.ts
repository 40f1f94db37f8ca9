/**
 * The RFC 8693 token-exchange grant for oidc-provider, which has none of its own: the
 * parameters it takes, its registration through `provider.registerGrantType`, and the
 * oidc-provider helper that checks a DPoP proof the way its built-in grants do. The dev IdP
 * (`dev-idp.ts`) and the test IdP (`test/support/token-exchange.ts`) each register their own
 * handler through it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */

/** The `grant_type` of token exchange (RFC 8693 §2.1). */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** The request parameters of RFC 8693 §2.1 besides `grant_type`. */
export const TOKEN_EXCHANGE_PARAMETERS: readonly string[] = [
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'audience',
  'resource',
  'scope',
];

/** The parameters RFC 8693 §2.1 lets a request repeat. */
const repeatable: readonly string[] = ['audience', 'resource'];

/** What a grant handler sees of oidc-provider's request context. */
export interface TokenExchangeContext {
  oidc: {
    /** The parameters, a repeated one as a list. */
    params: Record<string, unknown>;
    /** The authenticated client. */
    client: { clientId: string; scope?: string | undefined };
  };
  /** The token endpoint's answer. */
  body: unknown;
}

/** A token-exchange grant handler: sets `ctx.body`, or throws one of oidc-provider's errors. */
export type TokenExchangeHandler = (ctx: TokenExchangeContext) => Promise<void>;

/** Registers `handler` as `provider`'s token-exchange grant. */
export function registerTokenExchangeGrant(provider: unknown, handler: TokenExchangeHandler): void {
  (
    provider as {
      registerGrantType(
        name: string,
        handler: TokenExchangeHandler,
        parameters: readonly string[],
        duplicates: readonly string[],
      ): void;
    }
  ).registerGrantType(TOKEN_EXCHANGE_GRANT, handler, TOKEN_EXCHANGE_PARAMETERS, repeatable);
}

/** The `audience` and `resource` values of a request, in that order. */
export function exchangeTargets(params: Record<string, unknown>): string[] {
  const list = (value: unknown): string[] =>
    value === undefined
      ? []
      : Array.isArray(value)
        ? value.map(String)
        : [typeof value === 'string' ? value : JSON.stringify(value)];
  return [...list(params.audience), ...list(params.resource)];
}

/** A checked DPoP proof of the request: the thumbprint of its key. */
export interface CheckedDpopProof {
  thumbprint: string;
}

/** oidc-provider's own check of a request's DPoP proof (signature, htm, htu, iat, nonce). */
export type DpopValidator = (
  provider: unknown,
  ctx: TokenExchangeContext,
) => Promise<CheckedDpopProof | undefined>;

/**
 * oidc-provider's DPoP proof check, as its built-in grants use it. The package has no exports
 * map, so its helper is imported by path; the specifier is in a variable so that bundlers and
 * the type checker leave the optional peer alone.
 */
export async function loadDpopValidator(): Promise<DpopValidator> {
  const specifier = 'oidc-provider/lib/helpers/validate_dpop.js';
  const helper = (await import(specifier)) as { default: DpopValidator };
  return helper.default;
}
