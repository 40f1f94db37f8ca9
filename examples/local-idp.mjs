// A local OAuth 2.0 authorization server for the examples: oidc-provider on 127.0.0.1 with the
// client credentials grant, RFC 8707 resource indicators, JWT access tokens (RFC 9068) for one
// service, opaque tokens for another, introspection, revocation and DPoP.
//
// It is a development stand-in for your IdP (Auth0, Keycloak, Entra ID, Okta, ...), not a
// production server: keys are made fresh at start and nothing is persisted.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';

export const ORDERS_API = 'https://orders.example.test/';
export const LEDGER_API = 'https://ledger.example.test/';

export const CLIENT = { clientId: 'billing-service', clientSecret: randomBytes(18).toString('base64url') };
export const INTROSPECTOR = { clientId: 'ledger-api', clientSecret: randomBytes(18).toString('base64url') };

// oidc-provider warns about Node 20 and about its development defaults (the in-memory store
// this stand-in uses on purpose); the example keeps its own output readable.
function muteProviderNotices() {
  const warn = console.warn.bind(console);
  console.warn = (...args) => {
    if (typeof args[0] === 'string' && /oidc-provider|Unsupported runtime/i.test(args[0])) return;
    warn(...args);
  };
}

/** Starts the authorization server; resolves to `{ issuer, close }`. */
export async function startLocalIdp() {
  muteProviderNotices();
  const { default: Provider, errors } = await import('oidc-provider');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: `es256-${randomBytes(4).toString('hex')}`, alg: 'ES256', use: 'sig' };
  const resources = {
    [ORDERS_API]: { scope: 'orders:read orders:write', audience: ORDERS_API, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } },
    [LEDGER_API]: { scope: 'ledger:read', audience: LEDGER_API, accessTokenTTL: 300, accessTokenFormat: 'opaque' },
  };
  const base = {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256', // the only key this server has
  };

  let handler;
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    jwks: { keys: [signingKey] },
    clients: [
      { ...base, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, scope: 'orders:read orders:write ledger:read' },
      { ...base, client_id: INTROSPECTOR.clientId, client_secret: INTROSPECTOR.clientSecret },
    ],
    scopes: ['orders:read', 'orders:write', 'ledger:read'],
    findAccount: () => undefined,
    ttl: { ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true, allowedPolicy: async () => true },
      dPoP: { enabled: true, nonceSecret: randomBytes(32) },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? ORDERS_API,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          const info = resources[indicator];
          if (!info) throw new errors.InvalidTarget();
          return structuredClone(info);
        },
      },
    },
  });
  handler = provider.callback();

  return {
    issuer,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
