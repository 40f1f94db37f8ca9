/**
 * A local OAuth 2.0 authorization server for development: oidc-provider on 127.0.0.1 with the
 * client credentials grant, token exchange (RFC 8693), RFC 8707 resource indicators, JWT access
 * tokens (RFC 9068) for one service and opaque ones for another, introspection, revocation and
 * DPoP.
 *
 * It stands in for a real IdP on a developer's machine and in the demo. It is not a production
 * server: keys are made fresh at start, nothing is persisted, and the client credentials are
 * fixed and printed. It listens on loopback only.
 *
 * oidc-provider is an optional peer of s2s-auth, loaded only here.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  exchangeTargets,
  loadDpopValidator,
  registerTokenExchangeGrant,
  TOKEN_EXCHANGE_GRANT,
  type TokenExchangeContext,
} from './token-exchange-grant.js';

/** The service whose tokens are JWTs (verify them locally). */
export const ORDERS_API = 'https://orders.example.test/';
/** The service whose tokens are opaque (introspect them). */
export const LEDGER_API = 'https://ledger.example.test/';

/** Fixed development credentials: printed, loopback only, never a production secret. */
export const DEV_CLIENT = {
  clientId: 'billing-service',
  clientSecret: 'dev-billing-secret',
} as const;
/** The client a resource server introspects with. */
export const DEV_INTROSPECTOR = {
  clientId: 'ledger-api',
  clientSecret: 'dev-ledger-secret',
} as const;
/** Every scope the dev IdP knows. */
export const DEV_SCOPES = ['orders:read', 'orders:write', 'ledger:read'] as const;

/** A running dev IdP. */
export interface DevIdp {
  issuer: string;
  port: number;
  close(): Promise<void>;
}

/** Options of {@link startDevIdp}. */
export interface DevIdpOptions {
  /** The port on 127.0.0.1. Default `0`: any free port. */
  port?: number;
}

/** What the dev IdP uses of an oidc-provider token model instance (its ClientCredentials). */
interface ProviderToken {
  clientId: string;
  scope?: string | undefined;
  exp?: number | undefined;
  extra?: Record<string, unknown> | undefined;
  readonly tokenType: string;
  readonly expiration: number;
  setThumbprint(kind: 'jkt', thumbprint: string): void;
  save(): Promise<string>;
}

interface Provider {
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

interface ProviderModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => Provider;
  errors: {
    InvalidTarget: new (description?: string) => Error;
    InvalidRequest: new (description?: string) => Error;
    InvalidScope: new (description: string, scope: string) => Error;
  };
}

/** RFC 8693 §3 token types the exchange takes and issues. */
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** What the exchange reads of a token it issued, once checked. */
interface IssuedToken {
  sub: string | undefined;
  exp: number | undefined;
  act: unknown;
}

/** The error when the optional peer is missing: says what to install. */
export class MissingPeerError extends Error {
  override readonly name = 'MissingPeerError';
}

async function loadProvider(): Promise<ProviderModule> {
  try {
    // A specifier in a variable: bundlers and the type checker leave the optional peer alone.
    const specifier = 'oidc-provider';
    return (await import(specifier)) as ProviderModule;
  } catch (error) {
    throw new MissingPeerError(
      'the dev IdP needs oidc-provider: npm install --save-dev oidc-provider',
      {
        cause: error,
      },
    );
  }
}

// oidc-provider warns about Node 20 and about its development defaults (the in-memory store
// this stand-in uses on purpose); keep the developer's terminal readable.
function muteProviderNotices(): void {
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && /oidc-provider|Unsupported runtime/i.test(args[0])) return;
    warn(...args);
  };
}

/** A compact JWS: three base64url parts. */
const compactJws = /^[\w-]+\.[\w-]+\.[\w-]+$/;

async function signingJwk(): Promise<Record<string, unknown>> {
  const { privateKey } = await crypto.subtle.generateKey(
    { name: 'ECDSA', namedCurve: 'P-256' },
    true,
    ['sign', 'verify'],
  );
  const jwk = (await crypto.subtle.exportKey('jwk', privateKey)) as Record<string, unknown>;
  return {
    kty: jwk.kty,
    crv: jwk.crv,
    x: jwk.x,
    y: jwk.y,
    d: jwk.d,
    kid: `es256-${randomBytes(4).toString('hex')}`,
    alg: 'ES256',
    use: 'sig',
  };
}

/** Starts the dev IdP on 127.0.0.1. */
export async function startDevIdp(options: DevIdpOptions = {}): Promise<DevIdp> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new TypeError('startDevIdp: `port` must be 0–65535');
  const { default: Provider, errors } = await loadProvider();
  muteProviderNotices();
  const resources: Record<string, Record<string, unknown>> = {
    [ORDERS_API]: {
      scope: 'orders:read orders:write',
      audience: ORDERS_API,
      accessTokenTTL: 300,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'ES256' } },
    },
    [LEDGER_API]: {
      scope: 'ledger:read',
      audience: LEDGER_API,
      accessTokenTTL: 300,
      accessTokenFormat: 'opaque',
    },
  };
  const base = {
    grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256', // the only key this server has
  };

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) =>
    res.writeHead(503).end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${bound}`;

  const jwk = await signingJwk();
  const { d: _private, ...publicJwk } = jwk;
  const ownKeys = createLocalJWKSet({ keys: [publicJwk] });
  const provider = new Provider(issuer, {
    jwks: { keys: [jwk] },
    clients: [
      {
        ...base,
        client_id: DEV_CLIENT.clientId,
        client_secret: DEV_CLIENT.clientSecret,
        scope: DEV_SCOPES.join(' '),
      },
      {
        ...base,
        client_id: DEV_INTROSPECTOR.clientId,
        client_secret: DEV_INTROSPECTOR.clientSecret,
      },
    ],
    scopes: [...DEV_SCOPES],
    findAccount: () => undefined,
    // Exchanged tokens carry the subject and the acting party (RFC 8693 §4.1) as extra claims:
    // in the JWT, and in the introspection answer of an opaque token.
    extraTokenClaims: (_ctx: unknown, token: object) => exchangeClaims.get(token),
    formats: {
      customizers: {
        // oidc-provider makes a client-credentials token's `sub` its client: an exchanged token
        // is about the subject of the token it was exchanged for.
        jwt: (_ctx: unknown, token: ProviderToken, jwt: { payload: Record<string, unknown> }) => {
          const sub = token.extra?.sub;
          if (typeof sub === 'string') jwt.payload.sub = sub;
        },
      },
    },
    ttl: {
      ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) =>
        token.resourceServer?.accessTokenTTL ?? 300,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: () => true },
      revocation: { enabled: true, allowedPolicy: () => true },
      dPoP: { enabled: true, nonceSecret: randomBytes(32) },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf ?? ORDERS_API,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          const info = resources[indicator];
          if (!info) throw new errors.InvalidTarget();
          return structuredClone(info);
        },
      },
    },
  });
  const exchangeClaims = new WeakMap<object, Record<string, unknown>>();
  const validateDpop = await loadDpopValidator();

  /** A token this server issued and that is still valid; `invalid_request` otherwise. */
  async function issuedToken(token: unknown, type: unknown, which: string): Promise<IssuedToken> {
    if (typeof token !== 'string' || token.length === 0)
      throw new errors.InvalidRequest(`missing required parameter '${which}_token'`);
    if (type !== ACCESS_TOKEN_TYPE && type !== JWT_TOKEN_TYPE)
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
  async function tokenExchange(ctx: TokenExchangeContext): Promise<void> {
    const { params, client } = ctx.oidc;
    if (params.actor_token_type !== undefined && params.actor_token === undefined)
      throw new errors.InvalidRequest('actor_token_type is only allowed with actor_token');
    const subject = await issuedToken(params.subject_token, params.subject_token_type, 'subject');
    const actor =
      params.actor_token === undefined
        ? undefined
        : await issuedToken(params.actor_token, params.actor_token_type, 'actor');
    if (
      params.requested_token_type !== undefined &&
      params.requested_token_type !== ACCESS_TOKEN_TYPE
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
      throw new errors.InvalidScope(
        'no requested scope applies to the target',
        requested.join(' '),
      );

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
      act:
        subject.act === undefined ? { sub: actingParty } : { sub: actingParty, act: subject.act },
    });
    const proof = await validateDpop(provider, ctx);
    if (proof !== undefined) token.setThumbprint('jkt', proof.thumbprint);
    const value = await token.save();
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: token.tokenType,
      expires_in: token.expiration,
      scope: token.scope,
    };
  }

  registerTokenExchangeGrant(provider, tokenExchange);
  handler = provider.callback();

  return {
    issuer,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
