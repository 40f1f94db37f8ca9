/**
 * Fault-injection soak: a real oidc-provider behind a fault proxy that drops connections,
 * delays, answers 500, 429 with Retry-After, truncated and non-JSON bodies, and rotates keys,
 * on a schedule; token clients with many concurrent consumers and resource servers verifying
 * their tokens (and forged ones) run through it for a bounded time.
 *
 * Two runs go side by side, each with its own IdP and proxy, so CI pays for the longer one
 * only: the harsh one (6 s tokens, short faults, a 2 s breaker) and the short-lifetime one
 * (10 s tokens with the client's default skew, retries and 30 s breaker, outages longer than
 * a token lives), which checks that callers see no error while a valid token exists and none
 * once the token endpoint has answered for 3 s.
 *
 * CI runs a short version. `npm run soak` runs a long one (SOAK_SECONDS, default there 180)
 * and writes artifacts/soak.json. Figures are in docs/resilience.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthClient,
  createResourceServer,
  TokenError,
  type AuthClient,
} from '../../src/index.js';
import { CLIENTS, generateSigningKeys, RESOURCES, startIdp, type TestIdp } from '../support/idp.js';
import { collectGarbage, sleep } from '../support/timing.js';
import { startFaultProxy, type Fault, type FaultProxy } from './fault-proxy.js';

const seconds = Number(process.env.SOAK_SECONDS ?? 28);
const tokenTtlSeconds = 6;
const refreshSkewSeconds = 2;
const clientCount = 3;
const consumersPerClient = 8;
const verifierCount = 2;
const timeoutMs = 300;
/** A fault lasts longer than the token refresh interval's slack, so every fault meets traffic. */
const faultMs = 2500;
const cleanMs = 1000;

/**
 * The schedule, repeated: a fault, then a clean phase to recover in. Keys rotate as IdPs do
 * it: the new keys are published first (`announce`), and sign only later (`activate`), while
 * the old ones stay published for tokens already out.
 */
const faults: (Fault | 'announce' | 'activate')[] = [
  'drop',
  'delay',
  'announce',
  'error500',
  'rateLimit',
  'activate',
  'truncate',
  'garbage',
];

interface Figures {
  seconds: number;
  tokenTtlSeconds: number;
  clients: number;
  consumers: number;
  tokenCalls: number;
  callerErrors: number;
  callerErrorsWithValidToken: number;
  idpTokenRequests: number;
  proxyTokenAttempts: number;
  tokenLifetimes: number;
  idpRequestsPerLifetime: number;
  verifications: number;
  verificationErrorsForValidTokens: number;
  verificationErrorReasons: Record<string, number>;
  forgedTried: number;
  forgedAccepted: number;
  rotations: number;
  faultsInjected: Record<string, number>;
  heapStartMb: number;
  heapEndMb: number;
}

let idp: TestIdp;
let proxy: FaultProxy;
let figures: Figures;

function decodeExp(token: string): number {
  const payload = token.split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp: number }).exp;
}

function forge(token: string, n: number): string {
  const [header = '', payload = '', signature = ''] = token.split('.');
  switch (n % 4) {
    case 0: // altered signature
      return `${header}.${payload}.${signature.slice(0, -6)}AAAAAA`;
    case 1: // alg none
      return `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${payload}.`;
    case 2: {
      // claims changed under the genuine signature
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
        string,
        unknown
      >;
      claims.scope = 'orders:read orders:write orders:admin';
      return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    }
    default: // truncated
      return token.slice(0, token.length - 20);
  }
}

async function harshSoak(): Promise<Figures> {
  idp = await startIdp({ accessTokenTTL: tokenTtlSeconds });
  proxy = await startFaultProxy(idp.port, timeoutMs * 2);
  const clients: AuthClient[] = Array.from({ length: clientCount }, () =>
    createAuthClient({
      issuer: idp.issuer,
      tokenEndpoint: `${proxy.url}/token`,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      scope: 'orders:read',
      resource: RESOURCES.jwt,
      refreshSkewSeconds,
      timeoutMs,
      circuitBreaker: { failureThreshold: 5, resetTimeoutMs: 2000 },
    }),
  );
  const servers = Array.from({ length: verifierCount }, () =>
    createResourceServer({
      issuer: idp.issuer,
      audience: RESOURCES.jwt,
      jwksUri: `${proxy.url}/jwks`,
      timeoutMs,
      jwksCacheMaxAgeSeconds: 3,
      jwksCooldownSeconds: 1,
      jwksMaxStaleSeconds: 3600,
    }),
  );

  const latest: ({ token: string; expiresAtMs: number } | undefined)[] = clients.map(
    () => undefined,
  );
  const stats = {
    tokenCalls: 0,
    callerErrors: 0,
    callerErrorsWithValidToken: 0,
    verifications: 0,
    verificationErrorsForValidTokens: 0,
    forgedTried: 0,
    forgedAccepted: 0,
    rotations: 0,
  };
  const verificationErrorReasons: Record<string, number> = {};
  const started = Date.now();
  // Extended when needed so that every phase of the schedule runs at least once (below).
  let deadline = started + seconds * 1000;
  let stopped = false;

  // Warm up on a clean wire (a service that starts during an outage has nothing to serve
  // from), then measure memory from here.
  const first = await Promise.all(clients.map((client) => client.getToken()));
  await Promise.all(servers.map((server) => server.verifyToken(first[0]!.access_token)));
  collectGarbage();
  const heapStart = process.memoryUsage().heapUsed;

  const consumer = async (index: number) => {
    const client = clients[index % clientCount]!;
    const slot = index % clientCount;
    while (!stopped) {
      stats.tokenCalls++;
      try {
        const token = await client.getToken();
        latest[slot] = { token: token.access_token, expiresAtMs: (token.expires_at ?? 0) * 1000 };
      } catch {
        stats.callerErrors++;
        const known = latest[slot];
        if (known && known.expiresAtMs > Date.now()) stats.callerErrorsWithValidToken++;
      }
      await sleep(20 + (index % 5) * 10);
    }
  };

  const verifier = async (index: number) => {
    const server = servers[index]!;
    let n = index;
    while (!stopped) {
      const known = latest[n % clientCount];
      n++;
      if (known) {
        const valid = decodeExp(known.token) * 1000 > Date.now() + 2000;
        stats.verifications++;
        try {
          await server.verifyToken(known.token);
        } catch (error) {
          if (!(error instanceof TokenError)) throw error;
          if (valid) {
            stats.verificationErrorsForValidTokens++;
            verificationErrorReasons[error.reason] =
              (verificationErrorReasons[error.reason] ?? 0) + 1;
          }
        }
        stats.forgedTried++;
        try {
          await server.verifyToken(forge(known.token, n));
          stats.forgedAccepted++;
        } catch (error) {
          if (!(error instanceof TokenError)) throw error;
        }
      }
      await sleep(15);
    }
  };

  const schedule = async () => {
    let phase = 0;
    let signing = idp.keys;
    let next = signing;
    const restart = async (keys: typeof signing) => {
      await idp.close();
      idp = await startIdp({ port: idp.port, keys, accessTokenTTL: tokenTtlSeconds });
    };
    while (Date.now() < deadline) {
      const fault = faults[phase % faults.length]!;
      // Every kind of fault and both halves of a key rotation run at least once, however slow
      // the machine makes the IdP restarts: the run is stretched for the first cycle if need be.
      if (phase < faults.length) deadline = Math.max(deadline, Date.now() + faultMs + cleanMs);
      phase++;
      if (fault === 'announce') {
        // oidc-provider signs with the first key of each algorithm: the old ones stay first.
        next = await generateSigningKeys();
        await restart([...signing, ...next]);
      } else if (fault === 'activate') {
        await restart([...next, ...signing]);
        signing = next;
        stats.rotations++;
      } else {
        proxy.setFault(fault, ['/token', '/jwks']);
      }
      await sleep(Math.min(faultMs, Math.max(0, deadline - Date.now())));
      proxy.setFault('none');
      await sleep(Math.min(cleanMs, Math.max(0, deadline - Date.now())));
    }
  };

  const workers = [
    ...Array.from({ length: clientCount * consumersPerClient }, (_, i) => consumer(i)),
    ...Array.from({ length: verifierCount }, (_, i) => verifier(i)),
  ];
  await schedule();
  stopped = true;
  await Promise.all(workers);
  for (const client of clients) client.close();
  collectGarbage();
  const heapEnd = process.memoryUsage().heapUsed;

  const elapsedSeconds = (Date.now() - started) / 1000;
  const refreshEverySeconds = tokenTtlSeconds - refreshSkewSeconds;
  const tokenLifetimes = clientCount * (elapsedSeconds / refreshEverySeconds);
  const idpTokenRequests = proxy.forwarded.get('/token') ?? 0;
  return {
    seconds: Math.round(elapsedSeconds),
    tokenTtlSeconds,
    clients: clientCount,
    consumers: clientCount * consumersPerClient,
    ...stats,
    verificationErrorReasons,
    idpTokenRequests,
    proxyTokenAttempts: idpTokenRequests + [...proxy.injected.values()].reduce((a, b) => a + b, 0),
    tokenLifetimes: Math.round(tokenLifetimes * 10) / 10,
    idpRequestsPerLifetime: Math.round((idpTokenRequests / tokenLifetimes) * 100) / 100,
    faultsInjected: Object.fromEntries(proxy.injected),
    heapStartMb: Math.round((heapStart / 2 ** 20) * 10) / 10,
    heapEndMb: Math.round((heapEnd / 2 ** 20) * 10) / 10,
  };
}

// ---------------------------------------------------------------------------------------------
// The short-lifetime run: tokens live 10 s, outages last longer, the client keeps its defaults
// ---------------------------------------------------------------------------------------------

const shortTtlSeconds = 10;
const shortTimeoutMs = 1000;
/** Each outage outlives every token, so callers do run out of a valid token during it. */
const outageMs = 14_000;
/** After the outage: 3 s for the client to recover, then 3 s that must be free of errors. */
const answeringMs = 6_000;
const recoveryMs = 3_000;
/**
 * The faults of an outage, one after the other; outages take turns with the two sets. The first
 * fault of a later outage may meet no token request (the tokens fetched on recovery are not
 * due yet), so each set opens with a fault the other set also has.
 */
const outageFaults: Fault[][] = [
  ['drop', 'error500', 'delay', 'garbage'],
  ['error500', 'rateLimit', 'truncate', 'drop'],
];
const shortCycles = Math.max(1, Math.floor(seconds / ((outageMs + answeringMs) / 1000)));

interface ShortLifetimeFigures {
  seconds: number;
  tokenTtlSeconds: number;
  outages: number;
  outageSeconds: number;
  clients: number;
  consumers: number;
  tokenCalls: number;
  callerErrorsWhileValid: number;
  callerErrorsWithoutToken: number;
  callerErrorsAfter3sOfAnswers: number;
  idpTokenRequests: number;
  proxyTokenAttempts: number;
  tokenAttemptsPerOutage: number[];
  faultsInjected: Record<string, number>;
}

let shortIdp: TestIdp;
let shortProxy: FaultProxy;
let short: ShortLifetimeFigures;

async function shortLifetimeSoak(): Promise<ShortLifetimeFigures> {
  shortIdp = await startIdp({ accessTokenTTL: shortTtlSeconds });
  shortProxy = await startFaultProxy(shortIdp.port, shortTimeoutMs * 2);
  const proxy = shortProxy;
  // The client's defaults (refresh skew 30 s, so a 10 s token is renewed at half its life;
  // retries; a 30 s breaker), with a timeout a service on the same network as its IdP uses.
  const clients: AuthClient[] = Array.from({ length: clientCount }, () =>
    createAuthClient({
      issuer: shortIdp.issuer,
      tokenEndpoint: `${proxy.url}/token`,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      scope: 'orders:read',
      resource: RESOURCES.jwt,
      timeoutMs: shortTimeoutMs,
    }),
  );
  const stats = {
    tokenCalls: 0,
    callerErrorsWhileValid: 0,
    callerErrorsWithoutToken: 0,
    callerErrorsAfter3sOfAnswers: 0,
  };
  /** When the proxy last started forwarding everything; Infinity during an outage. */
  let answeringSinceMs = Number.POSITIVE_INFINITY;
  const validUntilMs = clients.map(() => 0);
  let stopped = false;
  const started = Date.now();
  await Promise.all(clients.map((client) => client.getToken()));
  answeringSinceMs = Date.now();

  const consumer = async (index: number) => {
    const slot = index % clientCount;
    const client = clients[slot]!;
    while (!stopped) {
      stats.tokenCalls++;
      const calledAtMs = Date.now();
      const answeredLongEnough = calledAtMs - answeringSinceMs >= recoveryMs;
      try {
        const token = await client.getToken();
        validUntilMs[slot] = Math.max(validUntilMs[slot]!, (token.expires_at ?? 0) * 1000);
      } catch {
        if (validUntilMs[slot]! > Date.now()) stats.callerErrorsWhileValid++;
        else if (answeredLongEnough) stats.callerErrorsAfter3sOfAnswers++;
        else stats.callerErrorsWithoutToken++;
      }
      await sleep(20 + (index % 5) * 10);
    }
  };

  const attemptsSoFar = () =>
    (proxy.forwarded.get('/token') ?? 0) + [...proxy.injected.values()].reduce((a, b) => a + b, 0);
  const tokenAttemptsPerOutage: number[] = [];
  const schedule = async () => {
    // Start when the first tokens are close to their renewal (half their life), so the first
    // fault of the outage already meets token requests.
    await sleep((shortTtlSeconds / 2 - 1) * 1000);
    for (let cycle = 0; cycle < shortCycles; cycle++) {
      const before = attemptsSoFar();
      answeringSinceMs = Number.POSITIVE_INFINITY;
      const faults = outageFaults[cycle % outageFaults.length]!;
      for (const fault of faults) {
        proxy.setFault(fault, ['/token']);
        await sleep(outageMs / faults.length);
      }
      proxy.setFault('none');
      answeringSinceMs = Date.now();
      tokenAttemptsPerOutage.push(attemptsSoFar() - before);
      await sleep(answeringMs);
    }
  };

  const workers = Array.from({ length: clientCount * consumersPerClient }, (_, i) => consumer(i));
  await schedule();
  stopped = true;
  await Promise.all(workers);
  for (const client of clients) client.close();
  const idpTokenRequests = proxy.forwarded.get('/token') ?? 0;
  return {
    seconds: Math.round((Date.now() - started) / 1000),
    tokenTtlSeconds: shortTtlSeconds,
    outages: shortCycles,
    outageSeconds: outageMs / 1000,
    clients: clientCount,
    consumers: clientCount * consumersPerClient,
    ...stats,
    idpTokenRequests,
    proxyTokenAttempts: attemptsSoFar(),
    tokenAttemptsPerOutage,
    faultsInjected: Object.fromEntries(proxy.injected),
  };
}

beforeAll(
  async () => {
    [figures, short] = await Promise.all([harshSoak(), shortLifetimeSoak()]);
    mkdirSync(join(import.meta.dirname, '..', '..', 'artifacts'), { recursive: true });
    writeFileSync(
      join(import.meta.dirname, '..', '..', 'artifacts', 'soak.json'),
      `${JSON.stringify({ ...figures, shortLifetime: short }, null, 2)}\n`,
    );
    console.log(`soak figures (${figures.seconds} s):\n${JSON.stringify(figures, null, 2)}`);
    console.log(
      `short-lifetime soak figures (${short.seconds} s):\n${JSON.stringify(short, null, 2)}`,
    );
  },
  (seconds + 60) * 1000,
);

afterAll(async () => {
  await Promise.all([proxy?.close(), idp?.close(), shortProxy?.close(), shortIdp?.close()]);
});

describe(`fault-injection soak (${seconds} s)`, () => {
  it('injected every kind of fault and rotated keys', () => {
    for (const fault of ['drop', 'delay', 'error500', 'rateLimit', 'truncate', 'garbage']) {
      expect(figures.faultsInjected[fault] ?? 0, fault).toBeGreaterThan(0);
    }
    expect(figures.rotations).toBeGreaterThan(0);
  });

  it('shows callers no error while a valid token existed', () => {
    expect(figures.tokenCalls).toBeGreaterThan(100);
    expect(figures.callerErrorsWithValidToken).toBe(0);
  });

  it('asks the IdP about once per token lifetime, plus bounded probes', () => {
    expect(figures.idpRequestsPerLifetime).toBeGreaterThan(0.5);
    expect(figures.idpRequestsPerLifetime).toBeLessThan(3);
  });

  it('verifies every valid token and accepts no forged one', () => {
    expect(figures.verifications).toBeGreaterThan(50);
    expect(figures.verificationErrorsForValidTokens).toBe(0);
    expect(figures.forgedTried).toBeGreaterThan(50);
    expect(figures.forgedAccepted).toBe(0);
  });

  it('keeps memory bounded', () => {
    expect(figures.heapEndMb - figures.heapStartMb).toBeLessThan(32);
  });
});

describe(`short-lifetime soak (${shortTtlSeconds} s tokens, outages of ${outageMs / 1000} s)`, () => {
  it('ran outages longer than a token lives, with every fault of their sets', () => {
    const expected = new Set(outageFaults.slice(0, shortCycles).flat());
    for (const fault of expected) {
      expect(short.faultsInjected[fault] ?? 0, fault).toBeGreaterThan(0);
    }
    // The tokens did expire during the outages, so the two checks below are not vacuous.
    expect(short.callerErrorsWithoutToken).toBeGreaterThan(0);
  });

  it('shows callers no error while a valid token existed', () => {
    expect(short.tokenCalls).toBeGreaterThan(100);
    expect(short.callerErrorsWhileValid).toBe(0);
  });

  it('shows callers no error once the token endpoint has answered for 3 s', () => {
    expect(short.callerErrorsAfter3sOfAnswers).toBe(0);
  });

  it('sends a failing IdP at most about one request a second per client', () => {
    for (const attempts of short.tokenAttemptsPerOutage) {
      expect(attempts).toBeLessThanOrEqual(clientCount * (outageMs / 1000 + 12));
    }
  });
});
