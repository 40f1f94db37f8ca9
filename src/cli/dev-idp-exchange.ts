/**
 * The dev IdP's RFC 8693 token exchange: it takes tokens it issued itself (a JWT it signed, or
 * an opaque token it still holds), and issues an access token for one of its resources, with
 * the scopes the client may have, no longer-lived than the subject token, naming the subject
 * and the acting party (RFC 8693 §4.1), and DPoP-bound when a proof comes with the request.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jwtVerify, type JWTVerifyGetKey } from 'jose';
import { TokenTypes } from '../client.js';
import {
  exchangeTargets,
  type DpopValidator,
  type TokenExchangeContext,
  type TokenExchangeHandler,
} from './token-exchange-grant.js';

/** What the dev IdP uses of an oidc-provider token model instance (its ClientCredentials). */
export interface ProviderToken {
  clientId: string;
  scope?: string | undefined;
  exp?: number | undefined;
  extra?: Record<string, unknown> | undefined;
  readonly tokenType: string;
  readonly expiration: number;
  setThumbprint(kind: 'jkt', thumbprint: string): void;
  save(): Promise<string>;
}

/** What the dev IdP uses of an oidc-provider instance. */
export interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  ClientCredentials: {
    new (init: {
      client: unknown;
      scope?: string | undefined;
      expiresIn: number;
      resourceServer: unknown;
    }): ProviderToken;
    find(value: string): Promise<ProviderToken | undefined>;
  };
}

/** The oidc-provider errors the exchange answers with. */
export interface ProviderErrors {
  InvalidTarget: new (description?: string) => Error;
  InvalidRequest: new (description?: string) => Error;
  InvalidScope: new (description: string, scope: string) => Error;
}

/** What the exchange reads of a token it issued, once checked. */
interface IssuedToken {
  sub: string | undefined;
  exp: number | undefined;
  act: unknown;
}

/** What the exchange needs of the dev IdP it runs in. */
export interface DevExchangeSetup {
  provider: Provider;
  errors: ProviderErrors;
  issuer: string;
  /** The dev IdP's own public keys: a JWT subject token must verify with them. */
  ownKeys: JWTVerifyGetKey;
  /** The resources by indicator, as oidc-provider's resource server info. */
  resources: Readonly<Record<string, Record<string, unknown>>>;
  /** Where the subject and acting party of each issued token go, for its extra claims. */
  exchangeClaims: WeakMap<object, Record<string, unknown>>;
  validateDpop: DpopValidator;
}

/** A compact JWS: three base64url parts. */
const compactJws = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** A token this server issued and that is still valid; `invalid_request` otherwise. */
async function issuedToken(
  setup: DevExchangeSetup,
  token: unknown,
  type: unknown,
  which: string,
): Promise<IssuedToken> {
  const { errors, issuer, ownKeys, provider } = setup;
  if (typeof token !== 'string' || token.length === 0)
    throw new errors.InvalidRequest(`missing required parameter '${which}_token'`);
  if (type !== TokenTypes.accessToken && type !== TokenTypes.jwt)
    throw new errors.InvalidRequest(`unsupported ${which}_token_type`);
  if (compactJws.test(token)) {
    try {
      const { payload } = await jwtVerify(token, ownKeys, {
        issuer,
        typ: 'at+jwt',
        algorithms: ['ES256'],
      });
      return { sub: payload.sub, exp: payload.exp, act: payload.act };
    } catch {
      throw new errors.InvalidRequest(`${which}_token is invalid`);
    }
  }
  // Opaque tokens are kept by the provider until they expire or are revoked.
  const stored = await provider.ClientCredentials.find(token);
  if (stored === undefined) throw new errors.InvalidRequest(`${which}_token is invalid`);
  return {
    sub: typeof stored.extra?.sub === 'string' ? stored.extra.sub : stored.clientId,
    exp: stored.exp,
    act: stored.extra?.act,
  };
}

/**
 * RFC 8693 token exchange: the subject token (and actor token) must be tokens this server
 * issued, still valid; the new token is for one resource (`audience` or `resource`), with the
 * requested scopes the client may have and the resource takes (all of those when none is
 * requested), no longer-lived than the subject token, and bound to the DPoP key of a proof.
 */
async function tokenExchange(setup: DevExchangeSetup, ctx: TokenExchangeContext): Promise<void> {
  const { errors, exchangeClaims, provider, resources, validateDpop } = setup;
  const { params, client } = ctx.oidc;
  if (params.actor_token_type !== undefined && params.actor_token === undefined)
    throw new errors.InvalidRequest('actor_token_type is only allowed with actor_token');
  const subject = await issuedToken(
    setup,
    params.subject_token,
    params.subject_token_type,
    'subject',
  );
  const actor =
    params.actor_token === undefined
      ? undefined
      : await issuedToken(setup, params.actor_token, params.actor_token_type, 'actor');
  if (
    params.requested_token_type !== undefined &&
    params.requested_token_type !== TokenTypes.accessToken
  )
    throw new errors.InvalidRequest('only access tokens can be requested');

  const targets = [...new Set(exchangeTargets(params))];
  if (targets.length === 0) throw new errors.InvalidTarget('audience or resource is required');
  if (targets.length > 1) throw new errors.InvalidTarget('one audience or resource per exchange');
  const target = targets[0]!;
  const info = resources[target];
  if (!info) throw new errors.InvalidTarget();

  const allowed = new Set(client.scope?.split(' '));
  const offered = new Set(String(info.scope).split(' '));
  const requested =
    typeof params.scope === 'string' && params.scope.trim() !== ''
      ? params.scope.split(' ').filter(Boolean)
      : [...offered].filter((scope) => allowed.has(scope));
  const refused = requested.filter((scope) => !allowed.has(scope));
  if (refused.length > 0)
    throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
  const granted = requested.filter((scope) => offered.has(scope));
  if (granted.length === 0)
    throw new errors.InvalidScope('no requested scope applies to the target', requested.join(' '));

  const now = Math.floor(Date.now() / 1000);
  const ttl = Number(info.accessTokenTTL);
  const expiresIn = subject.exp === undefined ? ttl : Math.min(ttl, subject.exp - now);
  if (expiresIn <= 0) throw new errors.InvalidRequest('subject_token is invalid');
  const token = new provider.ClientCredentials({
    client,
    scope: granted.join(' '),
    expiresIn,
    resourceServer: { ...structuredClone(info), identifier: () => target },
  });
  // RFC 8693 §4.1: the current actor outermost, an earlier delegation chain nested inside.
  const actingParty = actor?.sub ?? client.clientId;
  exchangeClaims.set(token, {
    sub: subject.sub ?? client.clientId,
    act: subject.act === undefined ? { sub: actingParty } : { sub: actingParty, act: subject.act },
  });
  const proof = await validateDpop(provider, ctx);
  if (proof !== undefined) token.setThumbprint('jkt', proof.thumbprint);
  const value = await token.save();
  ctx.body = {
    access_token: value,
    issued_token_type: TokenTypes.accessToken,
    token_type: token.tokenType,
    expires_in: token.expiration,
    scope: token.scope,
  };
}

/** The dev IdP's token-exchange grant handler, to register with `registerTokenExchangeGrant`. */
export function devTokenExchange(setup: DevExchangeSetup): TokenExchangeHandler {
  return (ctx) => tokenExchange(setup, ctx);
}
