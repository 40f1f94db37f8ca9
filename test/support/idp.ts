/**
 * A real OAuth 2.0 authorization server for integration tests: oidc-provider on 127.0.0.1,
 * configured for the client-credentials grant, RFC 8707 resource indicators, RFC 9068 JWT
 * access tokens, opaque tokens with introspection (RFC 7662) and revocation (RFC 7009), and
 * DPoP (RFC 9449), optionally with server nonces.
 *
 * One IdP per test file is the intended use: importing oidc-provider costs ~200 ms, a new
 * provider and listener ~20 ms.
 *
 * @example
 * ```ts
 * const idp = await startIdp();
 * afterAll(() => idp.close());
 * const client = createAuthClient({ issuer: idp.issuer, ...CLIENTS.basic });
 * ```
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type RequestListener,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { ClientLike, Configuration, Provider, TokenLike } from 'oidc-provider';

// oidc-provider prints an "Unsupported runtime" warning on import under Node 20 (harmless) and
// NOTICE lines for defaults it wants changed. Keep test output for real problems.
installNoticeFilter();
const { default: ProviderClass, errors } = await import('oidc-provider');

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

/** A JWS algorithm the test IdP can sign access tokens with. */
export type SigningAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

/** The jose `generateKeyPair` algorithm for each signing algorithm. */
const keyGeneration: Record<SigningAlgorithm, string> = {
  RS256: 'RS256',
  PS256: 'PS256',
  ES256: 'ES256',
  EdDSA: 'Ed25519',
};

/**
 * Generates private signing JWKs, one per algorithm, each with a fresh random `kid`, `use: sig`
 * and its `alg` pinned. Pass them as `keys` to {@link startIdp}; for key rotation, start the
 * IdP again on the same port with a new set.
 */
export async function generateSigningKeys(
  algorithms: readonly SigningAlgorithm[] = ['RS256', 'ES256', 'EdDSA'],
  { kidPrefix = 'key' }: { kidPrefix?: string } = {},
): Promise<JWK[]> {
  return Promise.all(
    algorithms.map(async (algorithm) => {
      const { privateKey } = await generateKeyPair(keyGeneration[algorithm], { extractable: true });
      const jwk = await exportJWK(privateKey);
      return {
        ...jwk,
        kid: `${kidPrefix}-${algorithm.toLowerCase()}-${randomBytes(6).toString('hex')}`,
        use: 'sig',
        alg: algorithm,
      };
    }),
  );
}

/** The public half of a private JWK (drops every private member). */
export function publicJwk(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, k: _k, ...rest } = jwk;
  return rest;
}

// ---------------------------------------------------------------------------------------------
// Resources and clients
// ---------------------------------------------------------------------------------------------

/** RFC 8707 resource indicators the IdP knows. Unknown ones get `invalid_target`. */
export const RESOURCES = {
  /** JWT access tokens (RS256, `typ: at+jwt`). The IdP's default resource. */
  jwt: 'https://orders.example.test/',
  /** Opaque access tokens: use it for introspection and revocation. */
  opaque: 'https://ledger.example.test/',
  /** JWT access tokens signed with ES256. */
  es256: 'https://inventory.example.test/',
  /** JWT access tokens signed with EdDSA (Ed25519). */
  eddsa: 'https://billing.example.test/',
} as const;

/** What the IdP says about one resource server (oidc-provider's `getResourceServerInfo` result). */
export interface ResourceServerInfo {
  scope: string;
  audience?: string;
  /** Seconds; defaults to the IdP's `accessTokenTTL`. */
  accessTokenTTL?: number;
  accessTokenFormat: 'jwt' | 'opaque';
  jwt?: { sign: { alg: SigningAlgorithm } };
}

/** Scopes of the default resource servers. */
export const SCOPES = {
  ordersRead: 'orders:read',
  ordersWrite: 'orders:write',
  /** Known to the IdP but granted to no client: asking for it is `invalid_scope`. */
  ordersAdmin: 'orders:admin',
  ledgerRead: 'ledger:read',
  inventoryRead: 'inventory:read',
  billingRead: 'billing:read',
} as const;

function defaultResources(accessTokenTTL: number): Record<string, ResourceServerInfo> {
  return {
    [RESOURCES.jwt]: {
      scope: 'orders:read orders:write orders:admin',
      audience: RESOURCES.jwt,
      accessTokenTTL,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'RS256' } },
    },
    [RESOURCES.opaque]: {
      scope: 'ledger:read',
      audience: RESOURCES.opaque,
      accessTokenTTL,
      accessTokenFormat: 'opaque',
    },
    [RESOURCES.es256]: {
      scope: 'inventory:read',
      audience: RESOURCES.es256,
      accessTokenTTL,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'ES256' } },
    },
    [RESOURCES.eddsa]: {
      scope: 'billing:read',
      audience: RESOURCES.eddsa,
      accessTokenTTL,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'EdDSA' } },
    },
  };
}

const grantedScope = 'orders:read orders:write ledger:read inventory:read billing:read';

/** A client authenticating with a shared secret. */
export interface SecretClient {
  clientId: string;
  clientSecret: string;
  clientAuth: 'client_secret_basic' | 'client_secret_post';
  scope: string;
}

/** A client authenticating with a signed assertion (RFC 7523, `private_key_jwt`). */
export interface PrivateKeyJwtClient {
  clientId: string;
  clientAuth: 'private_key_jwt';
  /** The private key as a JWK (with `kid` and `alg`). */
  privateJwk: JWK;
  /** The same private key as a non-extractable WebCrypto key. */
  privateKey: CryptoKey;
  /** What the IdP has registered in the client's `jwks`. */
  publicJwk: JWK;
  scope: string;
}

async function privateKeyJwtClient(
  clientId: string,
  alg: 'ES256' | 'RS256',
): Promise<PrivateKeyJwtClient> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const privateJwk: JWK = { ...jwk, kid: `${clientId}-${alg.toLowerCase()}`, alg, use: 'sig' };
  return {
    clientId,
    clientAuth: 'private_key_jwt',
    privateJwk,
    privateKey: (await importJWK(privateJwk, alg, { extractable: false })) as CryptoKey,
    publicJwk: publicJwk(privateJwk),
    scope: grantedScope,
  };
}

/**
 * The IdP's registered clients. Secrets hold characters that RFC 6749 §2.3.1 requires to be
 * form-encoded inside Basic credentials (`%`, `:`, `+`, space, `&`, `=`, `/`), and the Basic
 * client's id has a colon, so a client that skips the encoding fails to authenticate. They stay
 * within VSCHAR (printable ASCII, RFC 6749 Appendix A): oidc-provider rejects anything else.
 */
export const CLIENTS = {
  /** `client_secret_basic`. */
  basic: {
    clientId: 'urn:example:orders-worker',
    clientSecret: 'b4s1c%2F:pa ss+w0rd&x=y/~!-7f3c9e',
    clientAuth: 'client_secret_basic',
    scope: grantedScope,
  } satisfies SecretClient,
  /** `client_secret_post`. */
  post: {
    clientId: 'ledger-sync',
    clientSecret: 'p0st+secret&with=form/chars %2B :-91d2',
    clientAuth: 'client_secret_post',
    scope: grantedScope,
  } satisfies SecretClient,
  /** `private_key_jwt` with an ES256 key. */
  privateKeyJwt: await privateKeyJwtClient('inventory-agent', 'ES256'),
  /** `private_key_jwt` with an RS256 key. */
  privateKeyJwtRsa: await privateKeyJwtClient('reporting-agent', 'RS256'),
  /** Registered with `dpop_bound_access_tokens: true`: a token request without a DPoP proof fails. */
  dpopOnly: {
    clientId: 'billing-bot',
    clientSecret: 'dp0p-only:s3cret+ %-4a8b',
    clientAuth: 'client_secret_basic',
    scope: grantedScope,
  } satisfies SecretClient,
  /**
   * A resource server's own credentials: allowed to introspect and revoke any token (other
   * clients may introspect and revoke only their own).
   */
  resourceServer: {
    clientId: 'ledger-api',
    clientSecret: 'rs:introspect%me+ =-0c1d',
    clientAuth: 'client_secret_basic',
    scope: '',
  } satisfies SecretClient,
} as const;

function clientMetadata(): Record<string, unknown>[] {
  const base = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
  return [
    {
      ...base,
      client_id: CLIENTS.basic.clientId,
      client_secret: CLIENTS.basic.clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      scope: grantedScope,
    },
    {
      ...base,
      client_id: CLIENTS.post.clientId,
      client_secret: CLIENTS.post.clientSecret,
      token_endpoint_auth_method: 'client_secret_post',
      scope: grantedScope,
    },
    ...[CLIENTS.privateKeyJwt, CLIENTS.privateKeyJwtRsa].map((client) => ({
      ...base,
      client_id: client.clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [client.publicJwk] },
      scope: grantedScope,
    })),
    {
      ...base,
      client_id: CLIENTS.dpopOnly.clientId,
      client_secret: CLIENTS.dpopOnly.clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      dpop_bound_access_tokens: true,
      scope: grantedScope,
    },
    {
      ...base,
      client_id: CLIENTS.resourceServer.clientId,
      client_secret: CLIENTS.resourceServer.clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Storage: one per provider (oidc-provider's built-in adapter is meant for quick starts)
// ---------------------------------------------------------------------------------------------

interface StoredEntry {
  payload: Record<string, unknown>;
  expiresAt: number | undefined;
}

function createAdapterFactory() {
  const store = new Map<string, StoredEntry>();
  const byUid = new Map<string, string>();
  const byUserCode = new Map<string, string>();
  const byGrant = new Map<string, Set<string>>();

  const live = (key: string): Record<string, unknown> | undefined => {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  };

  return (model: string) => {
    const keyFor = (id: string) => `${model}:${id}`;
    return {
      async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
        const key = keyFor(id);
        const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
        store.set(key, { payload: structuredClone(payload), expiresAt });
        if (typeof payload.uid === 'string') byUid.set(payload.uid, id);
        if (typeof payload.userCode === 'string') byUserCode.set(payload.userCode, id);
        if (typeof payload.grantId === 'string') {
          const members = byGrant.get(payload.grantId) ?? new Set<string>();
          members.add(key);
          byGrant.set(payload.grantId, members);
        }
      },
      async find(id: string) {
        const payload = live(keyFor(id));
        return payload ? structuredClone(payload) : undefined;
      },
      async findByUid(uid: string) {
        const id = byUid.get(uid);
        return id === undefined ? undefined : live(keyFor(id));
      },
      async findByUserCode(userCode: string) {
        const id = byUserCode.get(userCode);
        return id === undefined ? undefined : live(keyFor(id));
      },
      async consume(id: string) {
        const payload = live(keyFor(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id: string) {
        store.delete(keyFor(id));
      },
      async revokeByGrantId(grantId: string) {
        for (const key of byGrant.get(grantId) ?? []) store.delete(key);
        byGrant.delete(grantId);
      },
    };
  };
}

// ---------------------------------------------------------------------------------------------
// The IdP
// ---------------------------------------------------------------------------------------------

export interface StartIdpOptions {
  /** Port on 127.0.0.1; default 0 (ephemeral). A fixed port lets a test restart the IdP with new keys. */
  port?: number;
  /**
   * Private signing JWKs (each with a `kid` and, for the default resources to work, one per
   * algorithm RS256, ES256 and EdDSA). Default: a fresh set from {@link generateSigningKeys}.
   */
  keys?: JWK[];
  /** DPoP nonce mode: every DPoP proof must carry a server nonce (`features.dPoP.requireNonce`). */
  dpopNonce?: boolean;
  /** Access-token lifetime in seconds for the default resources; default 300. */
  accessTokenTTL?: number;
  /** Extra resource servers, or replacements for the defaults, keyed by resource indicator. */
  resources?: Record<string, ResourceServerInfo>;
  /** The resource a token request without `resource` gets; default {@link RESOURCES.jwt}. */
  defaultResource?: string;
  /** Extra oidc-provider client metadata records, registered beside {@link CLIENTS}. */
  clients?: Record<string, unknown>[];
  /** Answer `GET /.well-known/oauth-authorization-server` with 404 (OpenID discovery only). */
  withoutOAuthMetadata?: boolean;
  /**
   * Token-request parameters, by name, that the IdP copies into the JWT access tokens it issues
   * as claims of the same name (a repeated parameter as a list), so a test can read what the
   * IdP received. oidc-provider otherwise ignores parameters it does not know.
   */
  tokenClaimsFromParameters?: string[];
  /**
   * The DPoP algorithms the IdP accepts and publishes as `dpop_signing_alg_values_supported`
   * (oidc-provider's `enabledJWA.dPoPSigningAlgValues`). Default: ES256, Ed25519, EdDSA.
   */
  dpopSigningAlgorithms?: string[];
  /**
   * Serves the IdP on a server of the caller's making (such as `node:https`), whose requests go
   * to `listener`; `protocol` is the issuer's scheme. Default: plain `node:http`.
   */
  server?: { create(listener: RequestListener): Server; protocol: 'http' | 'https' };
  /** Changes the oidc-provider configuration (features, discovery, …) before the IdP starts. */
  configure?: (configuration: Configuration, issuer: string) => void;
}

/** One HTTP request as the IdP received it. */
export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** Request headers, names lower-cased. */
  headers: IncomingHttpHeaders;
}

/** An error oidc-provider reported through one of its `*.error` events. */
export interface RecordedError {
  event: string;
  error: Error & { error?: string; error_description?: string };
}

export interface TestIdp {
  /** `http://127.0.0.1:<port>`. */
  issuer: string;
  port: number;
  /** The oidc-provider instance. */
  provider: Provider;
  /** Every HTTP request the IdP received, in order. */
  requests: RecordedRequest[];
  /** Errors oidc-provider reported (`grant.error`, `server_error`, …): details its answers hide. */
  errors: RecordedError[];
  /** The private signing keys in use. */
  keys: JWK[];
  /** The public JWK Set the IdP publishes at `endpoints.jwks`. */
  jwks: { keys: JWK[] };
  endpoints: { token: string; jwks: string; introspection: string; revocation: string };
  /** How many requests hit `path` (optionally only with `method`). */
  count(path: string, method?: string): number;
  /** Forgets recorded requests and errors. */
  resetRequests(): void;
  close(): Promise<void>;
}

/** Starts an oidc-provider IdP on 127.0.0.1. */
export async function startIdp(options: StartIdpOptions = {}): Promise<TestIdp> {
  const accessTokenTTL = options.accessTokenTTL ?? 300;
  const keys = options.keys ?? (await generateSigningKeys());
  const resources = { ...defaultResources(accessTokenTTL), ...options.resources };
  const defaultResource = options.defaultResource ?? RESOURCES.jwt;

  const requests: RecordedRequest[] = [];
  const recordedErrors: RecordedError[] = [];
  // eslint-disable-next-line prefer-const -- read by the server before the provider exists
  let handler: RequestListener | undefined;

  const server: Server = (options.server?.create ?? createServer)((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push({ method: req.method ?? 'GET', path, headers: { ...req.headers } });
    if (
      options.withoutOAuthMetadata &&
      path.startsWith('/.well-known/oauth-authorization-server')
    ) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    if (!handler) {
      res.writeHead(503).end();
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `${options.server?.protocol ?? 'http'}://127.0.0.1:${port}`;

  const configuration: Configuration = {
    adapter: createAdapterFactory(),
    jwks: { keys },
    clients: [...clientMetadata(), ...(options.clients ?? [])],
    scopes: ['openid', ...Object.values(SCOPES)],
    claims: { openid: ['sub'] },
    clientBasedCORS: () => false,
    findAccount: () => undefined,
    ...(options.dpopSigningAlgorithms === undefined
      ? {}
      : { enabledJWA: { dPoPSigningAlgValues: options.dpopSigningAlgorithms } }),
    ...(options.tokenClaimsFromParameters === undefined
      ? {}
      : { extraTokenClaims: parameterClaims(options.tokenClaimsFromParameters) }),
    ttl: {
      ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) =>
        token.resourceServer?.accessTokenTTL ?? accessTokenTTL,
      AccessToken: accessTokenTTL,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx: unknown, client: ClientLike, token: TokenLike) =>
          client.clientId === CLIENTS.resourceServer.clientId || client.clientId === token.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: unknown, client: ClientLike, token: TokenLike) => {
          if (
            client.clientId === CLIENTS.resourceServer.clientId ||
            client.clientId === token.clientId
          ) {
            return true;
          }
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      dPoP: {
        enabled: true,
        nonceSecret: randomBytes(32),
        requireNonce: () => options.dpopNonce === true,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: unknown, _client: ClientLike, oneOf?: string[]) =>
          oneOf ?? defaultResource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          const info = resources[indicator];
          if (!info) throw new errors.InvalidTarget();
          return structuredClone(info);
        },
      },
    },
  };

  options.configure?.(configuration, issuer);
  const provider = new ProviderClass(issuer, configuration);
  for (const event of [
    'server_error',
    'grant.error',
    'introspection.error',
    'revocation.error',
    'discovery.error',
    'jwks.error',
  ]) {
    provider.on(event, (...args: unknown[]) => {
      const error = args.find((arg): arg is Error => arg instanceof Error);
      if (error) recordedErrors.push({ event, error });
    });
  }
  handler = provider.callback();

  const jwks = { keys: keys.map(publicJwk) };
  let closed: Promise<void> | undefined;

  return {
    issuer,
    port,
    provider,
    requests,
    errors: recordedErrors,
    keys,
    jwks,
    endpoints: {
      token: `${issuer}/token`,
      jwks: `${issuer}/jwks`,
      introspection: `${issuer}/token/introspection`,
      revocation: `${issuer}/token/revocation`,
    },
    count(path, method) {
      return requests.filter(
        (r) => r.path === path && (method === undefined || r.method === method),
      ).length;
    },
    resetRequests() {
      requests.length = 0;
      recordedErrors.length = 0;
    },
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets would hold the port; a restart on the same port needs it free.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** `extraTokenClaims` copying the named parameters of the token request into the token. */
function parameterClaims(names: readonly string[]) {
  return async (ctx: unknown) => {
    const body = (ctx as { oidc?: { body?: Record<string, unknown> } }).oidc?.body ?? {};
    const claims: Record<string, unknown> = {};
    for (const name of names) if (body[name] !== undefined) claims[name] = body[name];
    return claims;
  };
}

// ---------------------------------------------------------------------------------------------
// Plain token requests, for tests that need a token without going through the SDK
// ---------------------------------------------------------------------------------------------

/** Form-encodes one Basic credential component (RFC 6749 §2.3.1). */
function formComponent(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** The `Authorization: Basic` value for a secret client, encoded per RFC 6749 §2.3.1. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formComponent(clientId)}:${formComponent(clientSecret)}`).toString('base64')}`;
}

export interface RequestTokenOptions {
  client?: { clientId: string; clientSecret: string };
  scope?: string;
  resource?: string;
  /** A DPoP proof JWT for the token endpoint. */
  dpop?: string;
}

/** A raw token response: status, headers and parsed JSON body. */
export interface RawTokenResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** Asks the IdP for a client-credentials token with plain fetch and Basic authentication. */
export async function requestToken(
  idp: TestIdp,
  options: RequestTokenOptions = {},
): Promise<RawTokenResponse> {
  const client = options.client ?? CLIENTS.basic;
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (options.scope !== undefined) form.set('scope', options.scope);
  if (options.resource !== undefined) form.set('resource', options.resource);
  const headers: Record<string, string> = {
    authorization: basicAuthorization(client.clientId, client.clientSecret),
    'content-type': 'application/x-www-form-urlencoded',
  };
  if (options.dpop) headers.dpop = options.dpop;
  const response = await fetch(idp.endpoints.token, { method: 'POST', headers, body: form });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** A token's access_token string, or a thrown error with the IdP's answer. */
export async function mintAccessToken(
  idp: TestIdp,
  options: RequestTokenOptions = {},
): Promise<string> {
  const { status, body } = await requestToken(idp, options);
  if (status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`test IdP refused the token request: HTTP ${status} ${String(body.error)}`);
  }
  return body.access_token;
}

// ---------------------------------------------------------------------------------------------

function installNoticeFilter(): void {
  const marker = Symbol.for('s2s-auth.test.oidc-provider-notice-filter');
  const holder = console as unknown as Record<symbol, boolean>;
  if (holder[marker]) return;
  holder[marker] = true;
  const plain = (value: unknown) =>
    typeof value === 'string' ? value.replace(/\u001b\[[0-9;]*m/g, '') : '';
  const isNoise = (args: unknown[]) => {
    const text = plain(args[0]);
    return (
      text.startsWith('oidc-provider NOTICE:') ||
      text.startsWith('oidc-provider WARNING: Unsupported runtime')
    );
  };
  const { warn, info } = console;
  console.warn = (...args: unknown[]) => {
    if (!isNoise(args)) warn.apply(console, args);
  };
  console.info = (...args: unknown[]) => {
    if (!isNoise(args)) info.apply(console, args);
  };
}
