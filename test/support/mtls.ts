/**
 * Mutual TLS (RFC 8705) for integration tests: a throwaway certificate authority with a server
 * certificate for 127.0.0.1 and client certificates, made with the `openssl` command into a
 * temporary directory when a test starts (no key material is committed), and a real
 * oidc-provider with its mTLS features behind `node:https`.
 *
 * The IdP serves its ordinary endpoints over TLS without asking for a client certificate, and
 * publishes `mtls_endpoint_aliases` (RFC 8705 §5) on a second TLS listener that does ask for
 * one: a client that ignores the aliases presents its certificate to a server that never asked
 * for it, and fails to authenticate.
 *
 * @example
 * ```ts
 * const pki = createTestPki();
 * const idp = await startMtlsIdp(pki);
 * afterAll(async () => { await idp.close(); pki.remove(); });
 * ```
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  request as httpsRequest,
  createServer as createHttpsServer,
  type ServerOptions,
} from 'node:https';
import type { IncomingHttpHeaders, RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { JWK } from 'jose';
import { startIdp, type StartIdpOptions, type TestIdp, type RecordedRequest } from './idp.js';

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/** One certificate and its private key, as PEM, with what tests compare against. */
export interface TestCertificate {
  /** The certificate, PEM. */
  cert: string;
  /** Its private key, PEM (PKCS #8). */
  key: string;
  /** The certificate's DER bytes. */
  der: Uint8Array;
  /** base64url(SHA-256(DER)): the RFC 8705 §3.1 `x5t#S256`, computed by `node:crypto`. */
  thumbprint: string;
  /** The subject as an RFC 4514 string (`CN=…,O=…`), as `tls_client_auth_subject_dn` holds it. */
  subjectDn: string;
}

export interface TestPki {
  /** The directory holding the files; {@link TestPki.remove} deletes it. */
  dir: string;
  /** The certificate authority (its certificate is what clients and servers trust). */
  ca: TestCertificate;
  /** Server certificate for `127.0.0.1` and `localhost`, issued by the CA. */
  server: TestCertificate;
  /** A client certificate issued by the CA: `tls_client_auth`. */
  client: TestCertificate;
  /** Another client certificate from the same CA, registered nowhere. */
  otherClient: TestCertificate;
  /** The resource server's own certificate from the CA: `tls_client_auth` for introspection. */
  resourceServer: TestCertificate;
  /** A self-signed client certificate: `self_signed_tls_client_auth`. */
  selfSigned: TestCertificate;
  remove(): void;
}

/** Whether this machine has the `openssl` command the test PKI is made with. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function readCertificate(dir: string, name: string): TestCertificate {
  const cert = readFileSync(join(dir, `${name}.pem`), 'utf8');
  const key = readFileSync(join(dir, `${name}.key`), 'utf8');
  const x509 = new X509Certificate(cert);
  return {
    cert,
    key,
    der: new Uint8Array(x509.raw),
    thumbprint: createHash('sha256').update(x509.raw).digest('base64url'),
    subjectDn: x509.subject.split('\n').reverse().join(','),
  };
}

/**
 * Makes a fresh CA, server and client certificates (P-256 keys, valid one day) with `openssl`
 * in a new temporary directory. Synchronous, ~100 ms.
 */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 's2s-auth-mtls-'));
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const serial = () =>
    `0x${createHash('sha256').update(`${Math.random()}`).digest('hex').slice(0, 16)}`;

  openssl(
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/O=s2s-auth tests/CN=Throwaway Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const issue = (name: string, subject: string, extensions: string) => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl('req', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      serial(),
      '-days',
      '1',
      '-out',
      `${name}.pem`,
      '-extfile',
      `${name}.ext`,
    );
  };
  issue(
    'server',
    '/O=s2s-auth tests/CN=localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  issue('client', '/O=s2s-auth tests/CN=orders-mtls', 'extendedKeyUsage=clientAuth\n');
  issue('other-client', '/O=s2s-auth tests/CN=stranger', 'extendedKeyUsage=clientAuth\n');
  issue('resource-server', '/O=s2s-auth tests/CN=ledger-mtls', 'extendedKeyUsage=clientAuth\n');
  openssl(
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    'self-signed.key',
    '-out',
    'self-signed.pem',
    '-days',
    '1',
    '-subj',
    '/O=s2s-auth tests/CN=inventory-mtls',
    '-addext',
    'extendedKeyUsage=clientAuth',
  );

  return {
    dir,
    ca: readCertificate(dir, 'ca'),
    server: readCertificate(dir, 'server'),
    client: readCertificate(dir, 'client'),
    otherClient: readCertificate(dir, 'other-client'),
    resourceServer: readCertificate(dir, 'resource-server'),
    selfSigned: readCertificate(dir, 'self-signed'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// The IdP
// ---------------------------------------------------------------------------------------------

const grantedScope = 'orders:read orders:write ledger:read inventory:read billing:read';

/** The mTLS clients the IdP registers; their certificates come from the {@link TestPki}. */
export const MTLS_CLIENTS = {
  /** `tls_client_auth`, matched by the subject DN of {@link TestPki.client}. */
  tlsClientAuth: { clientId: 'orders-mtls', clientAuth: 'tls_client_auth', scope: grantedScope },
  /** `self_signed_tls_client_auth`, its `jwks` holding {@link TestPki.selfSigned} in `x5c`. */
  selfSigned: {
    clientId: 'inventory-mtls',
    clientAuth: 'self_signed_tls_client_auth',
    scope: grantedScope,
  },
  /**
   * A resource server that introspects every client's tokens over mutual TLS
   * (`tls_client_auth`, matched by the subject DN of {@link TestPki.resourceServer}).
   */
  resourceServer: { clientId: 'ledger-mtls', clientAuth: 'tls_client_auth' },
} as const;

/** The RFC 8705 §5 alias endpoints, on the listener that asks for client certificates. */
export interface MtlsEndpointAliases {
  token_endpoint: string;
  introspection_endpoint: string;
  revocation_endpoint: string;
}

export interface MtlsTestIdp extends TestIdp {
  /** `mtls_endpoint_aliases` as published in discovery. */
  aliases: MtlsEndpointAliases;
  /** Requests the mTLS listener received, with whether they came with a client certificate. */
  aliasRequests: (RecordedRequest & { clientCertificate: boolean })[];
}

/** The client certificate of a request's TLS socket, or `undefined` when it sent none. */
function peerCertificate(ctx: unknown): X509Certificate | undefined {
  const socket = (ctx as { req: { socket: Partial<TLSSocket> } }).req.socket;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate();
  return peer?.raw ? new X509Certificate(peer.raw) : undefined;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Resource servers over TLS
// ---------------------------------------------------------------------------------------------

/**
 * The TLS of a resource server under test: the server certificate from `pki`, asking every
 * client for a certificate and taking any, CA-issued or self-signed, so that the SDK's
 * certificate binding is what refuses a wrong one, not the handshake.
 */
export function resourceServerTls(pki: TestPki): ServerOptions {
  return {
    cert: pki.server.cert,
    key: pki.server.key,
    ca: [pki.ca.cert, pki.selfSigned.cert],
    requestCert: true,
    rejectUnauthorized: false,
  };
}

/** A server listening on 127.0.0.1, with its origin. */
export interface RunningServer {
  origin: string;
  /** Closes the server and every connection it holds. */
  close(): Promise<void>;
}

/** Listens on a free port of 127.0.0.1; `scheme` is the origin's. */
export async function listenOnLoopback(
  server: Server,
  scheme: 'http' | 'https' = 'https',
): Promise<RunningServer> {
  const port = await listen(server);
  return {
    origin: `${scheme}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/**
 * Starts oidc-provider over TLS (server certificate from `pki`) with `features.mTLS` on:
 * `tls_client_auth` (a CA-issued certificate with the registered subject DN),
 * `self_signed_tls_client_auth` (a certificate registered in the client's `jwks`) and
 * certificate-bound access tokens (`cnf["x5t#S256"]`) for {@link MTLS_CLIENTS}. Clients must
 * trust `pki.ca`.
 */
export async function startMtlsIdp(
  pki: TestPki,
  options: Omit<StartIdpOptions, 'server' | 'configure'> = {},
): Promise<MtlsTestIdp> {
  const aliasRequests: MtlsTestIdp['aliasRequests'] = [];
  // eslint-disable-next-line prefer-const -- read by the server before the provider exists
  let aliasHandler: RequestListener | undefined;
  const aliasServer = createHttpsServer(
    {
      cert: pki.server.cert,
      key: pki.server.key,
      ca: pki.ca.cert,
      requestCert: true,
      // Clients without a (valid) certificate still get an HTTP answer: `invalid_client`.
      rejectUnauthorized: false,
    },
    (req, res) => {
      aliasRequests.push({
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0] ?? '/',
        headers: { ...req.headers },
        clientCertificate: peerCertificate({ req }) !== undefined,
      });
      if (!aliasHandler) {
        res.writeHead(503).end();
        return;
      }
      aliasHandler(req, res);
    },
  );
  const aliasOrigin = `https://127.0.0.1:${await listen(aliasServer)}`;
  const aliases: MtlsEndpointAliases = {
    token_endpoint: `${aliasOrigin}/token`,
    introspection_endpoint: `${aliasOrigin}/token/introspection`,
    revocation_endpoint: `${aliasOrigin}/token/revocation`,
  };

  const selfSignedJwk: JWK = {
    ...(new X509Certificate(pki.selfSigned.cert).publicKey.export({ format: 'jwk' }) as JWK),
    kid: 'inventory-mtls-cert',
    x5c: [Buffer.from(pki.selfSigned.der).toString('base64')],
  };
  const base = {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: grantedScope,
    tls_client_certificate_bound_access_tokens: true,
  };

  let idp: TestIdp;
  try {
    idp = await startIdp({
      ...options,
      clients: [
        ...(options.clients ?? []),
        {
          ...base,
          client_id: MTLS_CLIENTS.tlsClientAuth.clientId,
          token_endpoint_auth_method: 'tls_client_auth',
          tls_client_auth_subject_dn: pki.client.subjectDn,
        },
        {
          ...base,
          client_id: MTLS_CLIENTS.selfSigned.clientId,
          token_endpoint_auth_method: 'self_signed_tls_client_auth',
          jwks: { keys: [selfSignedJwk] },
        },
        {
          ...base,
          grant_types: [],
          client_id: MTLS_CLIENTS.resourceServer.clientId,
          token_endpoint_auth_method: 'tls_client_auth',
          tls_client_auth_subject_dn: pki.resourceServer.subjectDn,
        },
      ],
      server: {
        protocol: 'https',
        create: (listener) =>
          createHttpsServer({ cert: pki.server.cert, key: pki.server.key }, listener),
      },
      configure(configuration) {
        configuration.discovery = {
          ...(configuration.discovery as object | undefined),
          mtls_endpoint_aliases: aliases,
        };
        configuration.clientAuthMethods = [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
          'tls_client_auth',
          'self_signed_tls_client_auth',
        ];
        const features = configuration.features as {
          introspection: { allowedPolicy: (...args: unknown[]) => Promise<boolean> };
        };
        const allowed = features.introspection.allowedPolicy;
        configuration.features = {
          ...features,
          // The mTLS resource server may introspect every client's tokens.
          introspection: {
            ...features.introspection,
            allowedPolicy: async (ctx: unknown, client: { clientId: string }, token: unknown) =>
              client.clientId === MTLS_CLIENTS.resourceServer.clientId ||
              (await allowed(ctx, client, token)),
          },
          mTLS: {
            enabled: true,
            certificateBoundAccessTokens: true,
            tlsClientAuth: true,
            selfSignedTlsClientAuth: true,
            getCertificate: peerCertificate,
            certificateAuthorized: (ctx: unknown) =>
              (ctx as { req: { socket: Partial<TLSSocket> } }).req.socket.authorized === true,
            certificateSubjectMatches: (ctx: unknown, property: string, expected: string) =>
              property === 'tls_client_auth_subject_dn' &&
              peerCertificate(ctx)?.subject.split('\n').reverse().join(',') === expected,
          },
        };
      },
    });
  } catch (error) {
    aliasServer.close();
    throw error;
  }
  aliasHandler = idp.provider.callback();

  let closed: Promise<void> | undefined;
  return {
    ...idp,
    aliases,
    aliasRequests,
    resetRequests() {
      idp.resetRequests();
      aliasRequests.length = 0;
    },
    close() {
      closed ??= Promise.all([
        idp.close(),
        new Promise<void>((resolve, reject) => {
          aliasServer.close((error) => (error ? reject(error) : resolve()));
          aliasServer.closeAllConnections();
        }),
      ]).then(() => undefined);
      return closed;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Plain requests over (m)TLS, for tests that go around the SDK
// ---------------------------------------------------------------------------------------------

/** TLS options of a plain request: the CA to trust and, for mTLS, a client certificate. */
export interface PlainTlsOptions {
  ca: string;
  cert?: string | undefined;
  key?: string | undefined;
  headers?: Record<string, string>;
}

/** A plain answer: status, headers and the body parsed as JSON (or `undefined`). */
export interface PlainResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

/** POSTs a form over `node:https`, presenting `cert`/`key` when given. */
export function postFormOverTls(
  url: string,
  form: Record<string, string>,
  tls: PlainTlsOptions,
): Promise<PlainResponse> {
  return requestOverTls('POST', url, new URLSearchParams(form).toString(), tls);
}

/** GETs `url` over `node:https`, presenting `cert`/`key` when given. */
export function getOverTls(url: string, tls: PlainTlsOptions): Promise<PlainResponse> {
  return requestOverTls('GET', url, undefined, tls);
}

function requestOverTls(
  method: 'GET' | 'POST',
  url: string,
  body: string | undefined,
  tls: PlainTlsOptions,
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      {
        method,
        ca: tls.ca,
        ...(tls.cert === undefined ? {} : { cert: tls.cert, key: tls.key }),
        agent: false,
        headers: {
          ...(body === undefined
            ? {}
            : {
                'content-type': 'application/x-www-form-urlencoded',
                'content-length': Buffer.byteLength(body),
              }),
          ...tls.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> | undefined;
          try {
            parsed = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            parsed = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The payload of a compact JWS, decoded (no signature check: the test reads what it got). */
export function jwtPayload(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error('not a compact JWS');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
