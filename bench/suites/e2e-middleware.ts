/**
 * End to end over HTTP: the same route on Express, Hono and Fastify, unguarded, guarded by
 * s2s-auth's middleware (Bearer and DPoP), and guarded by the JWT middleware people use with
 * that framework: express-oauth2-jwt-bearer, Hono's `jwk`, `@fastify/jwt` with get-jwks.
 *
 * Two processes on 127.0.0.1: this one mints tokens and proofs and drives the load with
 * autocannon; a child (bench/lib/e2e-servers.ts) runs the issuer (discovery and JWKS over HTTP,
 * which every middleware fetches its keys from) and the three apps. A contender's score in a
 * round is its answered requests per second and its p99 latency, each divided by those of the
 * unguarded route of the same framework in the same round; rounds rotate the order of the
 * contenders, and the tables show the medians over the rounds.
 *
 * Tokens are ES256 RFC 9068 access tokens (`typ: at+jwt`, iss, aud, exp, iat, sub, client_id,
 * jti). "Distinct tokens" sends a token minted for that request, never seen before, so no cache
 * helps; "one token" sends the same token every time. DPoP sends one DPoP-bound token (as a
 * client reuses its token) with a new ES256 proof for every request: proofs cannot be reused,
 * so they are minted before each run, one per request the run can make.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, type JWK } from 'jose';
import {
  ROUTES,
  routePath,
  runServerProcess,
  type Framework,
  type ServerMessage,
  type ServerReply,
} from '../lib/e2e-servers.js';
import { accessToken, makeKey, signJws, type SigningKey } from '../lib/fixtures.js';
import { assert, printTable, size, smoke, suite } from '../lib/harness.js';
import { drive, summarise, type LoadResult } from '../lib/load.js';

type Credentials = 'none' | 'bearer-distinct' | 'bearer-repeated' | 'dpop';

interface Contender {
  name: string;
  route: (typeof ROUTES)[Framework][number];
  credentials: Credentials;
}

/** The first of each framework is the unguarded route: the baseline. */
const CONTENDERS: Record<Framework, Contender[]> = {
  express: [
    { name: 'unguarded', route: 'open', credentials: 'none' },
    { name: 's2s-auth, Bearer, distinct tokens', route: 's2s', credentials: 'bearer-distinct' },
    { name: 's2s-auth, Bearer, one token', route: 's2s', credentials: 'bearer-repeated' },
    { name: 's2s-auth, DPoP', route: 's2s', credentials: 'dpop' },
    {
      name: 'express-oauth2-jwt-bearer, Bearer, distinct tokens',
      route: 'oauth2-jwt-bearer',
      credentials: 'bearer-distinct',
    },
    {
      name: 'express-oauth2-jwt-bearer, Bearer, one token',
      route: 'oauth2-jwt-bearer',
      credentials: 'bearer-repeated',
    },
    { name: 'express-oauth2-jwt-bearer, DPoP', route: 'oauth2-jwt-bearer', credentials: 'dpop' },
  ],
  hono: [
    { name: 'unguarded', route: 'open', credentials: 'none' },
    { name: 's2s-auth, Bearer, distinct tokens', route: 's2s', credentials: 'bearer-distinct' },
    { name: 's2s-auth, Bearer, one token', route: 's2s', credentials: 'bearer-repeated' },
    { name: 's2s-auth, DPoP', route: 's2s', credentials: 'dpop' },
    {
      name: 's2s-auth default build (WebCrypto), Bearer, distinct tokens',
      route: 's2s-web',
      credentials: 'bearer-distinct',
    },
    {
      name: 'hono/jwk (keys given), Bearer, distinct tokens',
      route: 'jwk-keys',
      credentials: 'bearer-distinct',
    },
    {
      name: 'hono/jwk (keys given), Bearer, one token',
      route: 'jwk-keys',
      credentials: 'bearer-repeated',
    },
    {
      name: 'hono/jwk (jwks_uri), Bearer, distinct tokens',
      route: 'jwk-uri',
      credentials: 'bearer-distinct',
    },
  ],
  fastify: [
    { name: 'unguarded', route: 'open', credentials: 'none' },
    { name: 's2s-auth, Bearer, distinct tokens', route: 's2s', credentials: 'bearer-distinct' },
    { name: 's2s-auth, Bearer, one token', route: 's2s', credentials: 'bearer-repeated' },
    { name: 's2s-auth, DPoP', route: 's2s', credentials: 'dpop' },
    {
      name: '@fastify/jwt + get-jwks (getPublicKey per request), Bearer, distinct tokens',
      route: 'fastify-jwt',
      credentials: 'bearer-distinct',
    },
    {
      name: '@fastify/jwt + get-jwks (PEM kept), Bearer, distinct tokens',
      route: 'fastify-jwt-pem',
      credentials: 'bearer-distinct',
    },
    {
      name: '@fastify/jwt + get-jwks (PEM kept, cache on), Bearer, one token',
      route: 'fastify-jwt-pem-cached',
      credentials: 'bearer-repeated',
    },
  ],
};

/** The frameworks to run; S2S_BENCH_FRAMEWORKS=hono,express narrows them (for profiling). */
const FRAMEWORKS = (process.env.S2S_BENCH_FRAMEWORKS?.split(',') ??
  Object.keys(CONTENDERS)) as Framework[];
for (const framework of FRAMEWORKS) {
  if (!(framework in CONTENDERS))
    throw new Error(`S2S_BENCH_FRAMEWORKS: no framework ${framework}`);
}

const CONNECTIONS = size(10, 2);
/** Seconds per measured run and per warm-up run; a smoke run sends a fixed, tiny count. */
const SECONDS = 1;
const WARMUP_SECONDS = 0.5;
const SMOKE_REQUESTS = 10;
const ROUNDS = size(5, 1);
const WARMUP = size(1, 0);

const NOTES = [
  'Every middleware checks the signature with the key set it fetched over HTTP from the local issuer, and iss, aud, exp and typ at+jwt; express-oauth2-jwt-bearer runs with strict: true (the RFC 9068 claims), Hono and @fastify/jwt with their typ option set to at+jwt. No route checks scopes.',
  'Before the load, every contender gets a good request (200) and a bad one: a token signed by another key under the same kid, or a DPoP proof made for another URL. Each refused it (the statuses are below). During the load every answer must be a 2xx, and every guarded handler answers 500 if its middleware gave it no claims.',
  'Distinct tokens: each request carries a token minted for it. One token: every request carries the same one, which s2s-auth and fast-jwt with its cache on remember; express-oauth2-jwt-bearer and hono/jwk have no such cache. DPoP: one DPoP-bound token and a new proof for every request.',
  "Hono's jwk middleware given jwks_uri fetches the key set on every request (hono/dist/middleware/jwk/jwk.js); the keys-given rows fetch it once at start-up, as an application would to avoid that.",
  "get-jwks' getPublicKey, as its README pairs it with @fastify/jwt, converts the cached JWK to PEM with jwk-to-pem on every call, several milliseconds for a P-256 key (pure-JavaScript elliptic curves); the PEM-kept rows keep one PEM per JWK that get-jwks hands out.",
  's2s-auth runs its Node build (what the `node` export condition picks) except on the default-build row. The unguarded route gets the one-token Authorization header (the same request bytes as a Bearer request) and ignores it.',
];

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

interface DpopKey extends SigningKey {
  publicJwk: JWK;
  jkt: string;
}

function versionOf(...path: string[]): string {
  const file = join(process.cwd(), 'node_modules', ...path, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The server process, started with the same flags as this one (reports and profiles renamed). */
async function startServers(jwks: Promise<{ keys: JsonWebKey[] }>): Promise<{
  child: ChildProcess;
  ready: Extract<ServerReply, { type: 'ready' }>;
  request: (message: ServerMessage, answer: ServerReply['type']) => Promise<void>;
  stop: () => Promise<void>;
}> {
  const execArgv = process.execArgv.map((flag) =>
    flag.replace(/^(--(?:report-filename|cpu-prof-name)=.*?)(\.[a-z]+)$/, '$1-servers$2'),
  );
  const child = fork(fileURLToPath(import.meta.url), ['--servers'], { execArgv, stdio: 'inherit' });
  const next = (type: ServerReply['type']) =>
    new Promise<ServerReply>((resolve, reject) => {
      const onMessage = (message: ServerReply) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      };
      const onExit = (code: number | null) =>
        reject(new Error(`the server process exited (${code}) before answering ${type}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const request = async (message: ServerMessage, answer: ServerReply['type']) => {
    const answered = next(answer);
    child.send(message);
    await answered;
  };
  const readyAnswer = next('ready');
  // Forked first: the child loads the frameworks while this process makes the keys.
  child.send({ type: 'start', jwks: await jwks } satisfies ServerMessage);
  const ready = (await readyAnswer) as Extract<ServerReply, { type: 'ready' }>;
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.send({ type: 'stop' } satisfies ServerMessage);
    });
  return { child, ready, request, stop };
}

async function loadGenerator(): Promise<void> {
  await suite('e2e-middleware', async (report) => {
    const issuerKeyMade = makeKey('ES256', 'issuer-es256');
    const serversStarted = startServers(issuerKeyMade.then((key) => ({ keys: [key.jwk] })));
    const issuerKey = await issuerKeyMade;
    // A second key under the same kid: its tokens must fail the signature check everywhere.
    const forger = await makeKey('ES256', 'issuer-es256');
    const dpopBase = await makeKey('ES256', 'dpop');
    const { kid: _kid, alg: _alg, use: _use, ...publicJwk } = dpopBase.jwk;
    const dpopKey: DpopKey = {
      ...dpopBase,
      publicJwk: publicJwk,
      jkt: await calculateJwkThumbprint(publicJwk, 'sha256'),
    };
    const servers = await serversStarted;
    const { issuer, origins } = servers.ready;
    const mint = (key: SigningKey = issuerKey, extra: Record<string, unknown> = {}) =>
      accessToken(key, { iss: issuer, ...extra });
    const oneToken = mint();
    const boundToken = mint(issuerKey, { cnf: { jkt: dpopKey.jkt } });
    const boundAth = sha256(boundToken);
    const proof = (htu: string) =>
      signJws(
        dpopKey,
        { typ: 'dpop+jwt', alg: 'ES256', jwk: dpopKey.publicJwk },
        { jti: randomUUID(), htm: 'GET', htu, iat: Math.floor(Date.now() / 1000), ath: boundAth },
      );
    const urlOf = (framework: Framework, contender: Contender) =>
      `${origins[framework]}${routePath(contender.route)}`;

    /** The headers for `count` requests (one set, reused, where nothing is one-use). */
    const headersFor = (framework: Framework, contender: Contender, count: number) => {
      switch (contender.credentials) {
        case 'none':
        case 'bearer-repeated':
          return [{ authorization: `Bearer ${oneToken}` }];
        case 'bearer-distinct':
          return Array.from({ length: count }, () => ({ authorization: `Bearer ${mint()}` }));
        case 'dpop': {
          const url = urlOf(framework, contender);
          return Array.from({ length: count }, () => ({
            authorization: `DPoP ${boundToken}`,
            dpop: proof(url),
          }));
        }
      }
    };

    // ---- correctness: every contender lets a good request through and refuses a bad one -----
    const checks: Record<string, Record<string, unknown>> = {};
    const status = async (url: string, headers: Record<string, string>) =>
      (await fetch(url, { headers })).status;
    for (const framework of FRAMEWORKS) {
      for (const contender of CONTENDERS[framework]) {
        const url = urlOf(framework, contender);
        const label = `${framework}: ${contender.name}`;
        const good: Record<string, string> =
          contender.credentials === 'dpop'
            ? { authorization: `DPoP ${boundToken}`, dpop: proof(url) }
            : { authorization: `Bearer ${mint()}` };
        const goodStatus = await status(url, good);
        assert(goodStatus === 200, `${label} answers 200 to a good request (got ${goodStatus})`);
        if (contender.credentials === 'none') {
          const open = await status(url, {});
          assert(open === 200, `${label} answers 200 without credentials (got ${open})`);
          continue;
        }
        const bad: Record<string, string> =
          contender.credentials === 'dpop'
            ? // A valid proof, but for another URL: htu does not match.
              { authorization: `DPoP ${boundToken}`, dpop: proof(`${url}/elsewhere`) }
            : { authorization: `Bearer ${mint(forger)}` };
        const badStatus = await status(url, bad);
        // s2s-auth answers 401 (RFC 6750 §3.1, RFC 9449 §7.1); a peer may answer 400 instead
        // (express-oauth2-jwt-bearer does for a bad DPoP proof), which still refuses it.
        const refused = contender.route.startsWith('s2s')
          ? badStatus === 401
          : badStatus === 401 || badStatus === 400;
        assert(refused, `${label} refuses a bad request (got ${badStatus})`);
        const result: Record<string, unknown> = { good: goodStatus, bad: badStatus };
        if (contender.credentials === 'dpop') {
          // The good request again, proof and all. Asserted for s2s-auth below, only reported
          // for the peer: RFC 9449 §11.1 makes replay detection optional.
          result.replayedProof = await status(url, good);
        }
        checks[label] = result;
      }
    }
    const s2sReplays = Object.entries(checks).filter(
      ([label, result]) => label.includes('s2s-auth, DPoP') && result.replayedProof !== 401,
    );
    assert(s2sReplays.length === 0, 's2s-auth refuses a replayed DPoP proof with 401');
    console.log(
      `checks: ${Object.keys(checks).length} guarded contenders answered 200 to a good request and refused a bad one`,
    );

    // ---- load ---------------------------------------------------------------------------------
    const frameworks: Record<string, unknown> = {};
    for (const framework of FRAMEWORKS) {
      const contenders = CONTENDERS[framework];
      const baseline = contenders[0]!;
      const runs = new Map<string, LoadResult[]>(contenders.map((c) => [c.name, []]));
      const fastest = new Map<string, number>();
      for (let round = 0; round < WARMUP + ROUNDS; round++) {
        const warm = round < WARMUP;
        const seconds = warm ? WARMUP_SECONDS : SECONDS;
        for (let k = 0; k < contenders.length; k++) {
          const contender = contenders[(k + round) % contenders.length]!;
          // Enough one-use requests for the run at the fastest rate it (or, before it ran, the
          // unguarded route) has shown, and some.
          const expected = fastest.get(contender.name) ?? fastest.get(baseline.name) ?? 20_000;
          // Kept back per connection for what is sent after a stop (up to 100 ms, until
          // autocannon's next sample); connections do not all go at the same pace, hence 1.5×.
          const reservePerConnection = smoke ? 4 : Math.ceil((expected * 0.3) / CONNECTIONS) + 4;
          const count =
            (smoke ? SMOKE_REQUESTS : Math.ceil(expected * seconds * 1.5)) +
            CONNECTIONS * (reservePerConnection + 2);
          const headers = headersFor(framework, contender, count);
          if (!smoke) {
            await servers.request({ type: 'gc' }, 'gc-done');
            (globalThis as { gc?: () => void }).gc?.();
          }
          const result = await drive({
            url: urlOf(framework, contender),
            headers,
            reservePerConnection,
            connections: CONNECTIONS,
            ...(smoke ? { amount: SMOKE_REQUESTS } : { seconds }),
          });
          assert(
            result.non2xx === 0 && result.errors === 0 && result.requests > 0,
            `${framework}: ${contender.name} answered every request with 2xx (got ${JSON.stringify(result.statusCodes)}, ${result.errors} errors)`,
          );
          fastest.set(contender.name, Math.max(fastest.get(contender.name) ?? 0, result.rate));
          if (!warm) runs.get(contender.name)?.push(result);
        }
      }
      const base = runs.get(baseline.name)!;
      const rows = contenders.map((contender) => {
        const own = runs.get(contender.name)!;
        return {
          name: contender.name,
          route: routePath(contender.route),
          credentials: contender.credentials,
          rate: summarise(own.map((run) => run.rate)),
          rateRatio: summarise(own.map((run, i) => run.rate / base[i]!.rate)),
          p50Ms: summarise(own.map((run) => run.p50Ms)),
          p99Ms: summarise(own.map((run) => run.p99Ms)),
          p99Ratio: summarise(own.map((run, i) => run.p99Ms / base[i]!.p99Ms)),
          requests: own.reduce((sum, run) => sum + run.requests, 0),
          stoppedEarly: own.filter((run) => run.stoppedEarly).length,
        };
      });
      frameworks[framework] = { baseline: baseline.name, contenders: rows };
      console.log(
        `\n### ${framework}: requests/s and p99 as ratios to the unguarded route (${ROUNDS} rounds${WARMUP ? ` + ${WARMUP} warm-up` : ''}, ${CONNECTIONS} connections${smoke ? `, ${SMOKE_REQUESTS} requests each` : `, ${SECONDS} s each`})`,
      );
      printTable(
        ['contender', 'req/s', '× unguarded req/s', 'p99', '× unguarded p99'],
        rows.map((row) => [
          row.name,
          row.rate.median.toFixed(0),
          row.rateRatio.median.toFixed(2),
          `${row.p99Ms.median.toFixed(2)} ms`,
          row.p99Ratio.median.toFixed(2),
        ]),
      );
    }
    await servers.stop();

    report.measurements = {
      connections: CONNECTIONS,
      seconds: smoke ? undefined : SECONDS,
      requestsPerRun: smoke ? SMOKE_REQUESTS : undefined,
      rounds: ROUNDS,
      warmup: WARMUP,
      algorithm: 'ES256',
      versions: {
        autocannon: versionOf('autocannon'),
        express: versionOf('express'),
        'express-oauth2-jwt-bearer': versionOf('express-oauth2-jwt-bearer'),
        'jose (in express-oauth2-jwt-bearer)': versionOf(
          'express-oauth2-jwt-bearer',
          'node_modules',
          'jose',
        ),
        hono: versionOf('hono'),
        '@hono/node-server': versionOf('@hono/node-server'),
        fastify: versionOf('fastify'),
        '@fastify/jwt': versionOf('@fastify/jwt'),
        'get-jwks': versionOf('get-jwks'),
        'fast-jwt': versionOf('fast-jwt'),
      },
      checks,
      frameworks,
      notes: NOTES,
    };
  });
}

// The same file is both processes: `--servers` makes it the server side.
if (process.argv.includes('--servers')) {
  await runServerProcess();
} else {
  await loadGenerator();
}
