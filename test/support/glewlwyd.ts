/**
 * A second real authorization server for integration tests: glewlwyd (the Debian package,
 * 2.7.x), a C OAuth 2.0 / OpenID Connect server, on 127.0.0.1.
 *
 * Each harness gets its own temporary directory with a fresh sqlite database made from the
 * package's own schema and a `glewlwyd.conf` written here, starts the binary on a free port and
 * configures everything through the admin REST API, logged in as the packaged `admin` user:
 * scopes, an `oidc` plugin instance (RS256 JWT access tokens with `typ: at+jwt`, the
 * client-credentials grant, RFC 8707 resources, DPoP, introspection and revocation) and one
 * client per authentication method. Start to configured takes about a second.
 *
 * glewlwyd is not an npm package: CI installs it with apt (`.ci/run`). When it is missing,
 * {@link startGlewlwyd} throws, saying how to install it; the tests fail rather than skip.
 *
 * @example
 * ```ts
 * const idp = glewlwydForFile(); // started before the file's tests, stopped after them
 * it('gets a token', async () => {
 *   await createAuthClient({ issuer: idp.issuer, ...idp.clients.basic }).getToken();
 * });
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { createAuthClient } from '../../src/client.js';
import { startForFile } from './lifecycle.js';

// ---------------------------------------------------------------------------------------------
// What the harness configures
// ---------------------------------------------------------------------------------------------

/** The name of the `oidc` plugin instance: the issuer is `<origin>/api/<name>`. */
export const GLEWLWYD_PLUGIN = 'oidc';

/** A second instance, the same but for DPoP server nonces (`oauth-dpop-nonce-mandatory`). */
export const GLEWLWYD_NONCE_PLUGIN = 'oidc-nonce';

/** Scopes the server knows. glewlwyd requires `scope` on every client-credentials request. */
export const GLEWLWYD_SCOPES = {
  ordersRead: 'orders:read',
  ordersWrite: 'orders:write',
  ledgerRead: 'ledger:read',
  /** Known to the server but granted to no client. */
  ordersAdmin: 'orders:admin',
} as const;

/** RFC 8707 resources, each allowed for some scopes (glewlwyd's `resource-scope`). */
export const GLEWLWYD_RESOURCES = {
  /** Allowed with `orders:read` and `orders:write`. */
  orders: 'https://orders.example.test/',
  /** Allowed with `ledger:read`. */
  ledger: 'https://ledger.example.test/',
} as const;

/** A secret with every character RFC 6749 §2.3.1 form encoding changes: `+ / = %` and a space. */
export const AWKWARD_SECRET = 'a+b/c=d%25e f+/=%';

export interface GlewlwydSecretClient {
  clientId: string;
  clientSecret: string;
}

export interface GlewlwydKeyClient {
  clientId: string;
  /** The private half of the key registered for the client (ES256, with a `kid`). */
  privateKey: JWK;
}

/** The clients every harness registers. Secrets are random per harness. */
export interface GlewlwydClients {
  /** `client_secret_basic`; scopes `orders:read orders:write ledger:read`. */
  basic: GlewlwydSecretClient;
  /** `client_secret_post`; scopes `orders:read ledger:read`. */
  post: GlewlwydSecretClient;
  /** `private_key_jwt` with an ES256 key; scopes `orders:read`. */
  privateKeyJwt: GlewlwydKeyClient;
  /** `client_secret_basic`, `dpop_bound_access_tokens`: every token request needs a proof. */
  dpop: GlewlwydSecretClient;
  /** `client_secret_basic` and `client_secret_post` with {@link AWKWARD_SECRET}; `orders:read`. */
  awkward: GlewlwydSecretClient;
  /** The resource server's own client, for introspection and revocation (Basic or post). */
  resourceServer: GlewlwydSecretClient;
}

export interface StartGlewlwydOptions {
  /** The glewlwyd binary. Default: `glewlwyd` on the `PATH`, or in `/usr/bin`, `/usr/sbin`. */
  binary?: string;
  /** Access-token lifetime in seconds. Default 3600. */
  accessTokenSeconds?: number;
  /** The algorithm of the server's signing key (a fresh key per harness). Default `RS256`. */
  signingAlgorithm?: 'RS256' | 'ES256';
  /** glewlwyd's log level: `NONE`, `ERROR`, `WARNING`, `INFO`, `DEBUG`. Default `WARNING`. */
  logLevel?: 'NONE' | 'ERROR' | 'WARNING' | 'INFO' | 'DEBUG';
}

export interface Glewlwyd {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  /** The plugin's issuer: `http://127.0.0.1:<port>/api/oidc`. */
  issuer: string;
  /** The issuer of the instance that requires DPoP nonces: `…/api/oidc-nonce`. */
  nonceIssuer: string;
  tokenEndpoint: string;
  jwksUri: string;
  introspectionEndpoint: string;
  revocationEndpoint: string;
  clients: GlewlwydClients;
  /** The server's public signing keys, as `/jwks` publishes them. */
  signingKeys: JWK[];
  /** The temporary directory with the database and `glewlwyd.conf`; removed by `close`. */
  directory: string;
  /** The glewlwyd process id. */
  pid: number;
  /** The admin REST API with the logged-in session; throws on any non-2xx answer. */
  admin(method: string, path: string, body?: unknown): Promise<unknown>;
  /** What glewlwyd printed so far (the last lines). */
  log(): string;
  /** Stops the server and removes its directory. Safe to call twice. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Installation
// ---------------------------------------------------------------------------------------------

const installHint =
  'glewlwyd is not installed. Install the Debian package, as .ci/run does: ' +
  '`echo "glewlwyd glewlwyd/config_type select No configuration" | debconf-set-selections && ' +
  'apt-get install -y glewlwyd`';

/** The package ships its sqlite schema twice: for dbconfig-common, and gzipped with the docs. */
const schemaFiles = [
  '/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3',
  '/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz',
];
const moduleRoot = '/usr/lib/glewlwyd';

function findExecutable(name: string): string | undefined {
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin'];
  return directories.map((directory) => join(directory, name)).find((path) => existsSync(path));
}

function readSchema(): string {
  for (const file of schemaFiles) {
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    return (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  }
  throw new Error(`${installHint} (no sqlite schema in ${schemaFiles.join(' or ')})`);
}

function locateInstallation(explicit: string | undefined): {
  binary: string;
  sqlite3: string;
  schema: string;
} {
  const binary = explicit ?? findExecutable('glewlwyd');
  if (binary === undefined || !existsSync(binary) || !existsSync(join(moduleRoot, 'plugin'))) {
    throw new Error(`${installHint} (looked for ${explicit ?? 'glewlwyd on the PATH'})`);
  }
  const sqlite3 = findExecutable('sqlite3');
  if (sqlite3 === undefined) {
    throw new Error(
      `sqlite3 is not installed (the glewlwyd package depends on it). ${installHint}`,
    );
  }
  return { binary, sqlite3, schema: readSchema() };
}

/**
 * The schema run in one transaction: statement by statement, each commit waits for the disk,
 * and the whole takes seconds instead of milliseconds.
 */
async function createDatabase(sqlite3: string, schema: string, database: string): Promise<void> {
  const child = spawn(sqlite3, ['-bail', database], { stdio: ['pipe', 'ignore', 'pipe'] });
  const errors: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => errors.push(chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  child.stdin.end(`PRAGMA journal_mode=MEMORY;\nBEGIN;\n${schema}\nCOMMIT;\n`);
  const status = await exited;
  if (status !== 0) {
    throw new Error(
      `sqlite3 could not create the glewlwyd database (exit ${status}): ${Buffer.concat(errors).toString('utf8')}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Process
// ---------------------------------------------------------------------------------------------

/** Memory-backed when the machine has it: glewlwyd commits every admin call to sqlite. */
function temporaryRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// `use_secure_connection`, even `=false`, switches TLS on in 2.7: it is left out on purpose.
function configFile(port: number, database: string, logLevel: string): string {
  return `port=${port}
bind_address="127.0.0.1"
external_url="http://127.0.0.1:${port}"
login_url="login.html"
api_prefix="api"
static_files_path="/usr/share/glewlwyd/webapp/"
log_mode="console"
log_level="${logLevel}"
cookie_secure=0
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
login_api_enabled=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="${moduleRoot}/user"
user_middleware_module_path="${moduleRoot}/user_middleware"
client_module_path="${moduleRoot}/client"
user_auth_scheme_module_path="${moduleRoot}/scheme"
plugin_module_path="${moduleRoot}/plugin"
hash_algorithm="SHA512"
database =
{
  type = "sqlite3"
  path = "${database}"
};
`;
}

/** The last lines a process printed, for error messages. */
function outputBuffer(child: ChildProcess, maxLines = 200): () => string {
  const lines: string[] = [];
  const take = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > maxLines) lines.splice(0, lines.length - maxLines);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return () => lines.join('\n');
}

/** Every started server, killed if the test process ends without closing it. */
const running = new Set<{ child: ChildProcess; directory: string }>();
let exitHookInstalled = false;
function trackForExit(entry: { child: ChildProcess; directory: string }): void {
  running.add(entry);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { child, directory } of running) {
      child.kill('SIGKILL');
      rmSync(directory, { recursive: true, force: true });
    }
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function waitUntilServing(
  origin: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `glewlwyd exited (${child.exitCode ?? child.signalCode}) before serving:\n${output()}`,
      );
    }
    try {
      const response = await fetch(`${origin}/config`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new Error(`glewlwyd did not answer on ${origin}:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

// ---------------------------------------------------------------------------------------------
// Admin API
// ---------------------------------------------------------------------------------------------

type AdminCall = (method: string, path: string, body?: unknown) => Promise<unknown>;

async function logIn(origin: string): Promise<AdminCall> {
  const response = await fetch(`${origin}/api/auth/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'password' }),
  });
  const text = await response.text();
  const cookie = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0] ?? '')
    .find((pair) => pair.startsWith('GLEWLWYD2_SESSION_ID='));
  if (!response.ok || cookie === undefined) {
    throw new Error(`glewlwyd admin login failed: HTTP ${response.status} ${text}`);
  }
  return async (method, path, body) => {
    const answer = await fetch(`${origin}/api${path}`, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const result = await answer.text();
    if (!answer.ok) {
      throw new Error(
        `glewlwyd admin ${method} /api${path} failed: HTTP ${answer.status} ${result}`,
      );
    }
    return result === '' ? undefined : (JSON.parse(result) as unknown);
  };
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url');
}

interface Keys {
  privateJwks: JWK[];
  publicJwks: JWK[];
  client: { privateJwk: JWK; publicJwk: JWK };
}

async function signingKeySet(
  alg: 'RS256' | 'ES256',
): Promise<{ privateJwks: JWK[]; publicJwks: JWK[] }> {
  const kid = `${alg.toLowerCase()}-${randomSecret().slice(0, 8)}`;
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const common = { kid, alg, use: 'sig' };
  return {
    privateJwks: [{ ...(await exportJWK(privateKey)), ...common }],
    publicJwks: [{ ...(await exportJWK(publicKey)), ...common }],
  };
}

async function clientKey(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const kid = `client-es256-${randomSecret().slice(0, 8)}`;
  const pair: { privateKey: CryptoKey; publicKey: CryptoKey } = await generateKeyPair('ES256', {
    extractable: true,
  });
  const common = { kid, alg: 'ES256', use: 'sig' };
  return {
    privateJwk: { ...(await exportJWK(pair.privateKey)), ...common },
    publicJwk: { ...(await exportJWK(pair.publicKey)), ...common },
  };
}

function pluginParameters(
  issuer: string,
  privateJwks: JWK[],
  accessTokenSeconds: number,
  nonces: boolean,
) {
  return {
    iss: issuer,
    'jwks-private': JSON.stringify({ keys: privateJwks }),
    'jwks-show': true,
    'default-kid': privateJwks[0]?.kid,
    'access-token-duration': accessTokenSeconds,
    'refresh-token-duration': 1_209_600,
    'code-duration': 600,
    'allow-non-oidc': true,
    'auth-type-client-enabled': true,
    'auth-type-code-enabled': false,
    'auth-type-token-enabled': false,
    'auth-type-password-enabled': false,
    'auth-type-refresh-enabled': false,
    'auth-type-device-enabled': false,
    scope: [],
    // private_key_jwt assertions are verified by the "request parameter" machinery; the SDK's
    // assertions live 60 s, within `request-maximum-exp`.
    'request-parameter-allow': true,
    'request-maximum-exp': 600,
    'client-jwks-parameter': 'jwks',
    'client-pubkey-parameter': 'pubkey',
    'introspection-revocation-allowed': true,
    'introspection-revocation-allow-target-client': true,
    'oauth-dpop-allowed': true,
    'oauth-dpop-iat-duration': 60,
    'oauth-dpop-iat-gap-duration': 10,
    'oauth-dpop-dpop_bound_access_tokens-property': 'dpop_bound_access_tokens',
    ...(nonces ? { 'oauth-dpop-nonce-mandatory': true, 'oauth-dpop-nonce-counter': 5 } : {}),
    'resource-allowed': true,
    'resource-scope': {
      [GLEWLWYD_SCOPES.ordersRead]: [GLEWLWYD_RESOURCES.orders],
      [GLEWLWYD_SCOPES.ordersWrite]: [GLEWLWYD_RESOURCES.orders],
      [GLEWLWYD_SCOPES.ledgerRead]: [GLEWLWYD_RESOURCES.ledger],
    },
    'resource-scope-and-client-property': false,
  };
}

interface ClientRegistration {
  clientId: string;
  scopes: string[];
  methods: string[];
  secret?: string;
  jwks?: JWK[];
  dpopBound?: boolean;
}

function clientBody(registration: ClientRegistration) {
  return {
    client_id: registration.clientId,
    name: registration.clientId,
    enabled: true,
    confidential: true,
    authorization_type: ['client_credentials'],
    redirect_uri: [],
    scope: registration.scopes,
    token_endpoint_auth_method: registration.methods,
    ...(registration.secret === undefined ? {} : { client_secret: registration.secret }),
    ...(registration.jwks === undefined ? {} : { jwks: { keys: registration.jwks } }),
    ...(registration.dpopBound ? { dpop_bound_access_tokens: 'true' } : {}),
  };
}

/** Lets the database client backend store `dpop_bound_access_tokens`, which it does not list. */
async function allowDpopBoundProperty(admin: AdminCall): Promise<void> {
  const module = (await admin('GET', '/mod/client/database')) as {
    display_name: string;
    order_rank: number;
    readonly: boolean;
    parameters: { 'data-format': Record<string, unknown> };
  };
  module.parameters['data-format'].dpop_bound_access_tokens = {
    multiple: false,
    read: true,
    write: true,
  };
  await admin('PUT', '/mod/client/database', {
    display_name: module.display_name,
    order_rank: module.order_rank,
    readonly: module.readonly,
    parameters: module.parameters,
  });
  await admin('PUT', '/mod/client/database/reset');
}

async function configure(
  admin: AdminCall,
  origin: string,
  accessTokenSeconds: number,
  keys: Keys,
): Promise<{ clients: GlewlwydClients; signingKeys: JWK[] }> {
  const { privateJwks, publicJwks, client: key } = keys;
  await allowDpopBoundProperty(admin);
  for (const name of Object.values(GLEWLWYD_SCOPES)) {
    await admin('POST', '/scope/', {
      name,
      display_name: name,
      description: `${name} (test scope)`,
      password_required: false,
      scheme: {},
    });
  }
  for (const [name, nonces] of [
    [GLEWLWYD_PLUGIN, false],
    [GLEWLWYD_NONCE_PLUGIN, true],
  ] as const) {
    await admin('POST', '/mod/plugin/', {
      module: 'oidc',
      name,
      display_name: name,
      enabled: true,
      parameters: pluginParameters(
        `${origin}/api/${name}`,
        privateJwks,
        accessTokenSeconds,
        nonces,
      ),
    });
  }

  const { ordersRead, ordersWrite, ledgerRead } = GLEWLWYD_SCOPES;
  const clients: GlewlwydClients = {
    basic: { clientId: 'basic-client', clientSecret: randomSecret() },
    post: { clientId: 'post-client', clientSecret: randomSecret() },
    privateKeyJwt: { clientId: 'jwt-client', privateKey: key.privateJwk },
    dpop: { clientId: 'dpop-client', clientSecret: randomSecret() },
    awkward: { clientId: 'awkward-client', clientSecret: AWKWARD_SECRET },
    resourceServer: { clientId: 'orders-api', clientSecret: randomSecret() },
  };
  const registrations: ClientRegistration[] = [
    {
      clientId: clients.basic.clientId,
      secret: clients.basic.clientSecret,
      scopes: [ordersRead, ordersWrite, ledgerRead],
      methods: ['client_secret_basic'],
    },
    {
      clientId: clients.post.clientId,
      secret: clients.post.clientSecret,
      scopes: [ordersRead, ledgerRead],
      methods: ['client_secret_post'],
    },
    {
      clientId: clients.privateKeyJwt.clientId,
      jwks: [key.publicJwk],
      scopes: [ordersRead],
      methods: ['private_key_jwt'],
    },
    {
      clientId: clients.dpop.clientId,
      secret: clients.dpop.clientSecret,
      scopes: [ordersRead, ordersWrite],
      methods: ['client_secret_basic'],
      dpopBound: true,
    },
    {
      clientId: clients.awkward.clientId,
      secret: clients.awkward.clientSecret,
      scopes: [ordersRead],
      methods: ['client_secret_basic', 'client_secret_post'],
    },
    {
      clientId: clients.resourceServer.clientId,
      secret: clients.resourceServer.clientSecret,
      scopes: [ordersRead],
      methods: ['client_secret_basic', 'client_secret_post'],
    },
  ];
  for (const registration of registrations)
    await admin('POST', '/client/', clientBody(registration));
  return { clients, signingKeys: publicJwks };
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

/**
 * Starts and configures a glewlwyd server on 127.0.0.1. Throws, with the HTTP status and body
 * of the failing admin call or the server's output, when anything goes wrong; the process and
 * its directory are removed then too.
 */
export async function startGlewlwyd(options: StartGlewlwydOptions = {}): Promise<Glewlwyd> {
  const installation = locateInstallation(options.binary);
  // RSA key generation takes a while: it runs while the server starts.
  const keys: Promise<Keys> = Promise.all([
    signingKeySet(options.signingAlgorithm ?? 'RS256'),
    clientKey(),
  ]).then(([server, client]) => ({ ...server, client }));
  keys.catch(() => undefined);
  const directory = await mkdtemp(join(temporaryRoot(), 's2s-glewlwyd-'));
  const database = join(directory, 'glewlwyd.db');
  try {
    await createDatabase(installation.sqlite3, installation.schema, database);
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }

  // A port probed free can be taken before glewlwyd binds it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = join(directory, 'glewlwyd.conf');
    await writeFile(config, configFile(port, database, options.logLevel ?? 'WARNING'));
    const child = spawn(installation.binary, [`--config-file=${config}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry = { child, directory };
    trackForExit(entry);
    const output = outputBuffer(child);
    const origin = `http://127.0.0.1:${port}`;
    const issuer = `${origin}/api/${GLEWLWYD_PLUGIN}`;
    let closed: Promise<void> | undefined;
    const close = () =>
      (closed ??= (async () => {
        await stop(child);
        running.delete(entry);
        await rm(directory, { recursive: true, force: true });
      })());
    try {
      await waitUntilServing(origin, child, output);
    } catch (error) {
      lastError = error;
      await stop(child);
      running.delete(entry);
      continue;
    }
    try {
      const admin = await logIn(origin);
      const { clients, signingKeys } = await configure(
        admin,
        origin,
        options.accessTokenSeconds ?? 3600,
        await keys,
      );
      return {
        origin,
        port,
        issuer,
        nonceIssuer: `${origin}/api/${GLEWLWYD_NONCE_PLUGIN}`,
        tokenEndpoint: `${issuer}/token`,
        jwksUri: `${issuer}/jwks`,
        introspectionEndpoint: `${issuer}/introspect`,
        revocationEndpoint: `${issuer}/revoke`,
        clients,
        signingKeys,
        directory,
        pid: child.pid!,
        admin,
        log: output,
        close,
      };
    } catch (error) {
      await close();
      throw new Error(`${(error as Error).message}\nglewlwyd output:\n${output()}`, {
        cause: error,
      });
    }
  }
  await rm(directory, { recursive: true, force: true });
  throw lastError;
}

/** A fresh `orders:read` token of the Basic client (not the resource server's own client). */
export function basicToken(idp: Glewlwyd): Promise<string> {
  return createAuthClient({
    issuer: idp.issuer,
    ...idp.clients.basic,
    scope: GLEWLWYD_SCOPES.ordersRead,
    resource: GLEWLWYD_RESOURCES.orders,
  }).getAccessToken({ forceRefresh: true });
}

/**
 * A glewlwyd server for the whole test file: {@link startGlewlwyd} before its tests, closed after
 * them. Read it inside tests and hooks (see `startForFile`).
 */
export function glewlwydForFile(options: StartGlewlwydOptions = {}): Glewlwyd {
  return startForFile(() => startGlewlwyd(options));
}

/**
 * The resource server's own client, authenticating with `client_secret_post`: at glewlwyd it
 * sees every client's tokens in introspection and revocation, where Basic sees only its own.
 */
export function postCredentials(idp: Glewlwyd) {
  return { ...idp.clients.resourceServer, clientAuth: 'client_secret_post' as const };
}
