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
import { createLocalJWKSet } from 'jose';
import {
  devTokenExchange,
  type Provider,
  type ProviderErrors,
  type ProviderToken,
} from './dev-idp-exchange.js';
import {
  loadDpopValidator,
  registerTokenExchangeGrant,
  TOKEN_EXCHANGE_GRANT,
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

interface ProviderModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => Provider;
  errors: ProviderErrors;
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
  registerTokenExchangeGrant(
    provider,
    devTokenExchange({
      provider,
      errors,
      issuer,
      ownKeys,
      resources,
      exchangeClaims,
      validateDpop: await loadDpopValidator(),
    }),
  );
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
