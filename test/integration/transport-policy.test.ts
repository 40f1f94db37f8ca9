/**
 * The transport policy against real servers on 127.0.0.1: no request to the authorization
 * server follows a redirect, so another origin can neither choose the keys tokens are verified
 * with nor receive the client's credentials (RFC 8414 §3.3 and §6.2, RFC 9068 §4); and no
 * answer is read past `maxResponseBytes`, so a server streaming 50 MiB costs a bounded read
 * and a cancelled connection.
 */
import type { ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createResourceServer,
  introspectToken,
  ProtocolError,
  revokeToken,
  TokenError,
  type FetchLike,
} from '../../src/index.js';
import { sendJson, startServer, type ReceivedRequest, type TestServer } from '../support/http.js';
import { collectGarbage } from '../support/timing.js';

const audience = 'https://api.example.test';
const clientId = 'orders-worker';
const clientSecret = 'top secret+/=%';

/** The issuer's server, scripted per test. */
let issuerServer: TestServer;
/** Another origin, holding the attacker's keys and documents. */
let attacker: TestServer;
let attackerKeys: { privateKey: CryptoKey; jwks: { keys: JWK[] } };

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  attackerKeys = {
    privateKey: privateKey,
    jwks: {
      keys: [{ ...(await exportJWK(publicKey)), kid: 'attacker', alg: 'ES256', use: 'sig' }],
    },
  };
  issuerServer = await startServer((_q, r) => sendJson(r, 500, {}));
  attacker = await startServer((request, response) => attackerAnswer(request, response));
});

afterAll(async () => {
  await Promise.all([issuerServer.close(), attacker.close()]);
});

afterEach(() => {
  attacker.requests.length = 0;
  issuerServer.requests.length = 0;
});

/** The attacker's origin: a metadata document claiming the real issuer, its own keys and endpoints. */
function attackerAnswer(request: ReceivedRequest, response: ServerResponse): void {
  if (request.path.startsWith('/.well-known/')) {
    sendJson(response, 200, {
      issuer: issuerServer.origin,
      jwks_uri: `${attacker.origin}/jwks`,
      token_endpoint: `${attacker.origin}/token`,
      introspection_endpoint: `${attacker.origin}/introspect`,
      revocation_endpoint: `${attacker.origin}/revoke`,
    });
  } else if (request.path === '/jwks') {
    sendJson(response, 200, attackerKeys.jwks);
  } else {
    sendJson(response, 200, { access_token: 'attacker-token', token_type: 'Bearer', active: true });
  }
}

/** A well-formed RFC 9068 access token for the real issuer, signed with the attacker's key. */
function forgedToken(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: 'mallory', scope: 'orders:admin' })
    .setProtectedHeader({ alg: 'ES256', kid: 'attacker', typ: 'at+jwt' })
    .setIssuer(issuerServer.origin)
    .setAudience(audience)
    .setSubject('mallory')
    .setJti(`forged-${now}`)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(attackerKeys.privateKey);
}

/** Redirects every request to the same path on the attacker's origin. */
function redirectToAttacker(status = 302) {
  return (request: ReceivedRequest, response: ServerResponse) => {
    response.writeHead(status, { location: `${attacker.origin}${request.url}` });
    response.end();
  };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** The TokenError of a refused token, whose cause is the transport's error. */
async function refusedForKeys(promise: Promise<unknown>): Promise<unknown> {
  const error = await failure(promise);
  expect(error).toBeInstanceOf(TokenError);
  expect(error).toMatchObject({ reason: 'jwks', status: 503 });
  return (error as TokenError).cause;
}

describe('redirects are never followed', () => {
  it('the forged token is well made: a server given the attacker key set accepts it', async () => {
    const server = createResourceServer({
      issuer: issuerServer.origin,
      audience,
      jwksUri: `${attacker.origin}/jwks`,
    });
    await expect(server.verifyToken(await forgedToken())).resolves.toMatchObject({
      sub: 'mallory',
    });
  });

  it('refuses a forged token when the issuer metadata URL redirects to an origin holding attacker keys', async () => {
    issuerServer.handle(redirectToAttacker(302));
    const server = createResourceServer({ issuer: issuerServer.origin, audience });
    const cause = await refusedForKeys(server.verifyToken(await forgedToken()));
    expect(cause).toBeInstanceOf(ProtocolError);
    expect(cause).toMatchObject({ code: 'redirect', cause: { status: 302 } });
    expect((cause as Error).message).toContain(
      `${issuerServer.origin}/.well-known/oauth-authorization-server`,
    );
    expect(attacker.requests).toEqual([]);
  });

  it('refuses a forged token when the JWKS URL redirects to an origin holding attacker keys', async () => {
    issuerServer.handle((request, response) => {
      if (request.path === '/jwks') {
        redirectToAttacker(301)(request, response);
        return;
      }
      sendJson(response, 200, {
        issuer: issuerServer.origin,
        jwks_uri: `${issuerServer.origin}/jwks`,
      });
    });
    const server = createResourceServer({ issuer: issuerServer.origin, audience });
    const cause = await refusedForKeys(server.verifyToken(await forgedToken()));
    expect(cause).toMatchObject({ code: 'redirect', cause: { status: 301 } });
    expect((cause as Error).message).toContain(`${issuerServer.origin}/jwks`);
    expect(attacker.requests).toEqual([]);
  });

  it('refuses the answer of a custom fetch that follows the redirect anyway', async () => {
    issuerServer.handle(redirectToAttacker(302));
    const following: FetchLike = (request) =>
      fetch(request.url, { method: request.method, headers: request.headers, redirect: 'follow' });
    const server = createResourceServer({
      issuer: issuerServer.origin,
      audience,
      jwksUri: `${issuerServer.origin}/jwks`,
      fetch: following,
    });
    const cause = await refusedForKeys(server.verifyToken(await forgedToken()));
    expect(cause).toMatchObject({ code: 'redirect' });
    expect((cause as Error).message).toContain(`${attacker.origin}/jwks`);
  });

  it('posts no client secret to the origin a redirected discovery points at', async () => {
    issuerServer.handle(redirectToAttacker(302));
    const client = createAuthClient({
      issuer: issuerServer.origin,
      clientId,
      clientSecret,
      retry: false,
    });
    const error = await failure(client.getToken());
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'redirect' });
    expect(attacker.requests).toEqual([]);
  });

  it.each([307, 308, 302])(
    'refuses a token endpoint answering %i, and posts nothing to where it points',
    async (status) => {
      issuerServer.handle(redirectToAttacker(status));
      const client = createAuthClient({
        tokenEndpoint: `${issuerServer.origin}/token`,
        clientId,
        clientSecret,
        retry: false,
      });
      const error = await failure(client.getToken());
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: 'redirect', cause: { status } });
      expect((error as Error).message).toContain(`HTTP ${status}`);
      expect(issuerServer.requests).toHaveLength(1);
      expect(attacker.requests).toEqual([]);
    },
  );

  it('refuses a redirect from the introspection and the revocation endpoint', async () => {
    issuerServer.handle(redirectToAttacker(307));
    const caller = { clientId, clientSecret, token: 'opaque-token-value' };
    const introspection = await failure(
      introspectToken({ ...caller, introspectionEndpoint: `${issuerServer.origin}/introspect` }),
    );
    expect(introspection).toBeInstanceOf(ProtocolError);
    expect(introspection).toMatchObject({ code: 'redirect', cause: { status: 307 } });
    const revocation = await failure(
      revokeToken({ ...caller, revocationEndpoint: `${issuerServer.origin}/revoke` }),
    );
    expect(revocation).toBeInstanceOf(ProtocolError);
    expect(revocation).toMatchObject({ code: 'redirect', cause: { status: 307 } });
    expect(attacker.requests).toEqual([]);
  });

  it('refuses a redirect from discovery for introspection, before any credential is sent', async () => {
    issuerServer.handle(redirectToAttacker(302));
    const error = await failure(
      introspectToken({ issuer: issuerServer.origin, clientId, clientSecret, token: 'opaque' }),
    );
    expect(error).toMatchObject({ code: 'redirect' });
    expect(attacker.requests).toEqual([]);
  });
});

describe('endpoints from discovery', () => {
  it('posts no client secret to a plain-HTTP token endpoint on a host that is not loopback', async () => {
    // 0.0.0.0 reaches this machine, but it is not a loopback name: the policy refuses it.
    const published = `http://0.0.0.0:${attacker.port}/token`;
    issuerServer.handle((_q, r) =>
      sendJson(r, 200, { issuer: issuerServer.origin, token_endpoint: published }),
    );
    const client = createAuthClient({
      issuer: issuerServer.origin,
      clientId,
      clientSecret,
      retry: false,
    });
    const error = await failure(client.getToken());
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'insecure_url' });
    expect(attacker.requests).toEqual([]);
  });

  it('fetches no keys from a plain-HTTP jwks_uri on a host that is not loopback', async () => {
    issuerServer.handle((_q, r) =>
      sendJson(r, 200, {
        issuer: issuerServer.origin,
        jwks_uri: `http://0.0.0.0:${attacker.port}/jwks`,
      }),
    );
    const server = createResourceServer({ issuer: issuerServer.origin, audience });
    expect(await refusedForKeys(server.verifyToken(await forgedToken()))).toMatchObject({
      code: 'insecure_url',
    });
    expect(attacker.requests).toEqual([]);
  });
});

const MiB = 1024 * 1024;

/** What a streaming answer managed to send before the client hung up. */
interface StreamStats {
  written: number;
  closedEarly: boolean;
  closed: Promise<void>;
}

/**
 * Streams about `total` bytes (`prefix`, filler, `suffix`) with backpressure, and stops as
 * soon as the connection closes. Chunked unless `headers` give a Content-Length.
 */
function streamAnswer(
  stats: StreamStats[],
  { total = 50 * MiB, status = 200, prefix = '', suffix = '', headers = {} } = {},
) {
  return (_request: ReceivedRequest, response: ServerResponse) => {
    let resolveClosed!: () => void;
    const entry: StreamStats = {
      written: 0,
      closedEarly: false,
      closed: new Promise<void>((resolve) => (resolveClosed = resolve)),
    };
    stats.push(entry);
    response.on('close', () => {
      entry.closedEarly = !response.writableFinished;
      resolveClosed();
    });
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const pump = () => {
      if (entry.written === 0 && prefix) {
        response.write(prefix);
        entry.written += Buffer.byteLength(prefix);
      }
      while (entry.written < total && !response.destroyed) {
        entry.written += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      if (!response.destroyed) response.end(suffix);
    };
    pump();
  };
}

/** Waits for the server to see the connection close, and returns what it had written. */
async function closedConnection(stats: StreamStats[]): Promise<StreamStats> {
  expect(stats).toHaveLength(1);
  const [entry] = stats as [StreamStats];
  await Promise.race([
    entry.closed,
    new Promise((_, reject) => setTimeout(() => reject(new Error('connection still open')), 5000)),
  ]);
  return entry;
}

describe('answers are read up to maxResponseBytes', () => {
  it('refuses a 50 MiB chunked token answer at the limit and closes the connection', async () => {
    const stats: StreamStats[] = [];
    issuerServer.handle(
      streamAnswer(stats, { prefix: '{"token_type":"Bearer","access_token":"', suffix: '"}' }),
    );
    const client = createAuthClient({
      tokenEndpoint: `${issuerServer.origin}/token`,
      clientId,
      clientSecret,
      retry: false,
    });
    const started = Date.now();
    const error = await failure(client.getToken());
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'too_large', cause: { limit: MiB } });
    const entry = await closedConnection(stats);
    expect(entry.closedEarly).toBe(true);
    expect(entry.written).toBeLessThan(20 * MiB);
  });

  it('refuses a 50 MiB key set at the limit; the token is refused for want of keys', async () => {
    const stats: StreamStats[] = [];
    issuerServer.handle(streamAnswer(stats, { prefix: '{"keys":[],"pad":"', suffix: '"}' }));
    const server = createResourceServer({
      issuer: issuerServer.origin,
      audience,
      jwksUri: `${issuerServer.origin}/jwks`,
    });
    const cause = await refusedForKeys(server.verifyToken(await forgedToken()));
    expect(cause).toBeInstanceOf(ProtocolError);
    expect(cause).toMatchObject({ code: 'too_large' });
    expect((await closedConnection(stats)).closedEarly).toBe(true);
  });

  it('refuses a discovery document whose Content-Length is over the limit without reading it', async () => {
    const stats: StreamStats[] = [];
    issuerServer.handle(streamAnswer(stats, { headers: { 'content-length': String(50 * MiB) } }));
    const client = createAuthClient({
      issuer: issuerServer.origin,
      clientId,
      clientSecret,
      retry: false,
    });
    const error = await failure(client.getToken());
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'too_large' });
    expect((error as Error).message).toContain(`${50 * MiB} bytes (Content-Length)`);
    expect((await closedConnection(stats)).closedEarly).toBe(true);
  });

  it('counts the bytes when a fetch reports a Content-Length smaller than what the server streams', async () => {
    const stats: StreamStats[] = [];
    issuerServer.handle(streamAnswer(stats));
    const lying: FetchLike = async (request) => {
      const response = await fetch(request);
      const headers = new Headers(response.headers);
      headers.set('content-length', '16');
      return new Response(response.body, { status: response.status, headers });
    };
    const client = createAuthClient({
      tokenEndpoint: `${issuerServer.origin}/token`,
      clientId,
      clientSecret,
      fetch: lying,
      retry: false,
    });
    const error = await failure(client.getToken());
    expect(error).toMatchObject({ code: 'too_large' });
    expect((await closedConnection(stats)).closedEarly).toBe(true);
  });

  it('refuses a 50 MiB error body the same way, before making an OAuthError of it', async () => {
    const stats: StreamStats[] = [];
    issuerServer.handle(
      streamAnswer(stats, {
        status: 400,
        prefix: '{"error":"invalid_request","error_description":"',
        suffix: '"}',
      }),
    );
    const error = await failure(
      introspectToken({
        introspectionEndpoint: `${issuerServer.origin}/introspect`,
        clientId,
        clientSecret,
        token: 'opaque',
      }),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'too_large' });
    expect((await closedConnection(stats)).closedEarly).toBe(true);
  });

  it('takes the limit from maxResponseBytes on each entry point', async () => {
    const jwks = JSON.stringify({ keys: [], pad: 'x'.repeat(2000) });
    issuerServer.handle((_q, r) => sendJson(r, 200, jwks));
    const strict = createResourceServer({
      issuer: issuerServer.origin,
      audience,
      jwksUri: `${issuerServer.origin}/jwks`,
      maxResponseBytes: 1000,
    });
    expect(await refusedForKeys(strict.verifyToken(await forgedToken()))).toMatchObject({
      code: 'too_large',
      cause: { limit: 1000 },
    });
    const lenient = createResourceServer({
      issuer: issuerServer.origin,
      audience,
      jwksUri: `${issuerServer.origin}/jwks`,
    });
    // Within the default limit the key set is read: refused for holding no usable key, not for its size.
    const readInFull = await refusedForKeys(lenient.verifyToken(await forgedToken()));
    expect(readInFull).toBeInstanceOf(ProtocolError);
    expect(readInFull).not.toMatchObject({ code: 'too_large' });

    issuerServer.handle((_q, r) =>
      sendJson(r, 200, { access_token: 'a'.repeat(3000), token_type: 'Bearer' }),
    );
    const client = createAuthClient({
      tokenEndpoint: `${issuerServer.origin}/token`,
      clientId,
      clientSecret,
      maxResponseBytes: 2048,
      retry: false,
    });
    await expect(client.getToken()).rejects.toMatchObject({ code: 'too_large' });
    issuerServer.handle((_q, r) => sendJson(r, 200, { active: true, pad: 'p'.repeat(3000) }));
    await expect(
      introspectToken({
        introspectionEndpoint: `${issuerServer.origin}/introspect`,
        clientId,
        clientSecret,
        token: 'opaque',
        maxResponseBytes: 2048,
      }),
    ).rejects.toMatchObject({ code: 'too_large' });
  });

  it('keeps memory bounded while a server streams a 50 MiB token answer', async () => {
    const stats: StreamStats[] = [];
    issuerServer.handle(
      streamAnswer(stats, { prefix: '{"token_type":"Bearer","access_token":"', suffix: '"}' }),
    );
    const client = createAuthClient({
      tokenEndpoint: `${issuerServer.origin}/token`,
      clientId,
      clientSecret,
      retry: false,
    });
    collectGarbage();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const error = await failure(client.getToken());
    await closedConnection(stats);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(error).toMatchObject({ code: 'too_large' });
    expect(peak - before).toBeLessThan(40 * MiB);
  });
});
