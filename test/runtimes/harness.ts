/**
 * What the conformance suite talks to, run by Node on 127.0.0.1: two oidc-provider IdPs (one
 * requiring DPoP nonces), a third with token exchange (RFC 8693) and a workload-identity client,
 * a workload token service in the manner of GitHub Actions' (a fresh signed assertion per `GET`,
 * for a bearer request token), a projected-token file in the manner of Kubernetes' (rewritten
 * with a fresh assertion on `POST /workload-file/rotate`), a token endpoint behind TLS that
 * answers only a request presenting the test's client certificate (RFC 8705 §2) and the PEM of
 * that certificate, its key and a second certificate, made for each harness by the tests' PKI (`test/support/mtls.ts`), a protected endpoint that verifies with Node's resource server,
 * the request counts as JSON, and a port where nothing listens.
 *
 * One harness per runtime, so request counts never mix between runtimes running at once.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createResourceServer, TokenError } from '../../src/server.js';
import { createTestPki, resourceServerTls } from '../support/mtls.js';
import { CLIENTS, mintAccessToken, RESOURCES, startIdp, type TestIdp } from '../support/idp.js';
import {
  EXCHANGE_AUDIENCES,
  EXCHANGE_CLIENTS,
  startTokenExchangeIdp,
  type TokenExchangeIdp,
} from '../support/token-exchange.js';

/** What the workload token service wants in `Authorization`, as a CI runner's request token. */
const WORKLOAD_REQUEST_TOKEN = 'runner-request-token-7f3a';

/** The configuration the suite reads (`ConformanceConfig` in conformance.mjs). */
export interface ConformanceConfig {
  runtime: string;
  issuer: string;
  nonceIssuer: string;
  exchangeIssuer: string;
  workloadTokenUrl: string;
  workloadRequestToken: string;
  workloadTokenFile: string;
  workloadRotateUrl: string;
  /** Whether the runtime has `node:fs`: `assertionFromFile` reads, or says it cannot. */
  fileSystem: boolean;
  /** Whether the `tls` option can present a certificate here (Node, through undici). */
  clientCertificates: boolean;
  mtls: {
    /** A token endpoint behind TLS that answers 200 only to the client certificate below. */
    tokenEndpoint: string;
    /** The CA of that server's certificate, to trust as `tls.ca`. */
    ca: string;
    cert: string;
    key: string;
    /** `cnf["x5t#S256"]` of `cert`, as Node computes it. */
    x5t: string;
    /** Another certificate, which no token is bound to. */
    otherCert: string;
  };
  /** A token the exchange IdP issued to another service, for the exchange checks. */
  subjectToken: string;
  exchangeAudiences: typeof EXCHANGE_AUDIENCES;
  protectedUrl: string;
  statsUrl: string;
  closedUrl: string;
  clients: {
    basic: { clientId: string; clientSecret: string };
    post: { clientId: string; clientSecret: string };
    dpopOnly: { clientId: string; clientSecret: string };
    resourceServer: { clientId: string; clientSecret: string };
    privateKeyJwt: { clientId: string; privateJwk: object };
    exchanger: { clientId: string; clientSecret: string };
    workload: { clientId: string };
  };
  resources: typeof RESOURCES;
}

export interface Harness {
  config(
    runtime: string,
    capabilities?: { fileSystem: boolean; clientCertificates: boolean },
  ): ConformanceConfig;
  idp: TestIdp;
  nonceIdp: TestIdp;
  exchangeIdp: TokenExchangeIdp;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const [idp, nonceIdp, exchangeIdp] = await Promise.all([
    startIdp(),
    startIdp({ dpopNonce: true }),
    startTokenExchangeIdp(),
  ]);
  const subjectToken = await mintAccessToken(exchangeIdp, { client: EXCHANGE_CLIENTS.frontend });
  let workloadTokensServed = 0;
  const dir = await mkdtemp(join(tmpdir(), 's2s-auth-conformance-'));
  const workloadTokenFile = join(dir, 'token');
  const rotateWorkloadFile = async () =>
    writeFile(workloadTokenFile, await exchangeIdp.workload.assertion(), { mode: 0o600 });
  await rotateWorkloadFile();
  const pki = createTestPki();
  const x5t = pki.client.thumbprint;
  const mtlsServer = createHttpsServer(resourceServerTls(pki), (req, res) => {
    const raw: Buffer | undefined =
      req.socket instanceof TLSSocket ? req.socket.getPeerCertificate(true).raw : undefined;
    const presented = raw ? createHash('sha256').update(raw).digest('base64url') : '';
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'https://x').pathname !== '/token') {
      json(res, 404, { error: 'not_found' });
    } else if (presented !== x5t) {
      json(res, 401, { error: 'invalid_client', error_description: 'no client certificate' });
    } else {
      json(res, 200, { access_token: 'mtls-bound-token', token_type: 'Bearer', expires_in: 300 });
    }
  });
  const mtlsPort = await listen(mtlsServer);
  const resourceServer = createResourceServer({ issuer: idp.issuer, audience: RESOURCES.jwt });

  const api = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: String(error) }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/stats') {
      json(res, 200, {
        discovery: idp.count('/.well-known/oauth-authorization-server'),
        token: idp.count('/token', 'POST'),
        jwks: idp.count('/jwks'),
        nonceToken: nonceIdp.count('/token', 'POST'),
        exchangeToken: exchangeIdp.count('/token', 'POST'),
        workloadTokens: workloadTokensServed,
      });
      return;
    }
    if (path === '/workload-file/rotate' && req.method === 'POST') {
      await rotateWorkloadFile();
      json(res, 200, { rotated: true });
      return;
    }
    if (path === '/workload-token') {
      const audience = new URL(req.url ?? '/', origin).searchParams.get('audience');
      if (req.headers.authorization !== `Bearer ${WORKLOAD_REQUEST_TOKEN}`) {
        json(res, 401, { error: 'unauthorized' });
      } else if (audience !== exchangeIdp.issuer) {
        json(res, 400, { error: 'wrong_audience' });
      } else {
        workloadTokensServed += 1;
        json(res, 200, { value: await exchangeIdp.workload.assertion() });
      }
      return;
    }
    if (path !== '/orders/42') {
      json(res, 404, { error: 'not_found' });
      return;
    }
    const body = await readBody(req);
    try {
      const claims = await resourceServer.verifyRequest({
        method: req.method ?? 'GET',
        url: `${origin}${req.url ?? '/'}`,
        headers: req.headers,
      });
      const scheme = (req.headers.authorization ?? '').split(' ')[0];
      const cnf = claims.cnf as { jkt?: string } | undefined;
      json(res, 200, {
        scheme,
        clientId: claims.client_id,
        jkt: cnf?.jkt,
        method: req.method,
        body,
      });
      return;
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      const headers: Record<string, string> = { 'www-authenticate': error.wwwAuthenticate };
      if (error.dpopNonce) headers['dpop-nonce'] = error.dpopNonce;
      json(res, error.status, { error: error.reason }, headers);
      return;
    }
  }

  const apiPort = await listen(api);
  const origin = `http://127.0.0.1:${apiPort}`;
  const closedPort = await freePort();

  return {
    idp,
    nonceIdp,
    exchangeIdp,
    config: (runtime, capabilities = { fileSystem: true, clientCertificates: true }) => ({
      runtime,
      ...capabilities,
      mtls: {
        tokenEndpoint: `https://127.0.0.1:${mtlsPort}/token`,
        ca: pki.ca.cert,
        cert: pki.client.cert,
        key: pki.client.key,
        x5t,
        otherCert: pki.otherClient.cert,
      },
      issuer: idp.issuer,
      nonceIssuer: nonceIdp.issuer,
      exchangeIssuer: exchangeIdp.issuer,
      workloadTokenUrl: `${origin}/workload-token`,
      workloadRequestToken: WORKLOAD_REQUEST_TOKEN,
      workloadTokenFile,
      workloadRotateUrl: `${origin}/workload-file/rotate`,
      subjectToken,
      exchangeAudiences: EXCHANGE_AUDIENCES,
      protectedUrl: `${origin}/orders/42`,
      statsUrl: `${origin}/stats`,
      closedUrl: `http://127.0.0.1:${closedPort}`,
      clients: {
        basic: secretOf(CLIENTS.basic),
        post: secretOf(CLIENTS.post),
        dpopOnly: secretOf(CLIENTS.dpopOnly),
        resourceServer: secretOf(CLIENTS.resourceServer),
        privateKeyJwt: {
          clientId: CLIENTS.privateKeyJwt.clientId,
          privateJwk: CLIENTS.privateKeyJwt.privateJwk,
        },
        exchanger: secretOf(EXCHANGE_CLIENTS.exchanger),
        workload: { clientId: exchangeIdp.workload.clientId },
      },
      resources: RESOURCES,
    }),
    async close() {
      api.closeAllConnections();
      mtlsServer.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => api.close(() => resolve())),
        new Promise<void>((resolve) => mtlsServer.close(() => resolve())),
        idp.close(),
        nonceIdp.close(),
        exchangeIdp.close(),
      ]);
      await rm(dir, { recursive: true, force: true });
      pki.remove();
    },
  };
}

function secretOf(client: { clientId: string; clientSecret: string }) {
  return { clientId: client.clientId, clientSecret: client.clientSecret };
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server | ReturnType<typeof createHttpsServer>): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** A 127.0.0.1 port that was free a moment ago: a connection there is refused. */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
