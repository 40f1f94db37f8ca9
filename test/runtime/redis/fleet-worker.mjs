// One instance of a fleet for test/runtime/redis/fleet.test.ts: a separate process with its own
// s2s-auth client (the BUILT package from dist/), sharing one Redis with its siblings.
//
// Configuration comes in FLEET_WORKER_CONFIG (JSON); `redis` is `{ port }` for one server or
// `{ cluster: [{ host, port }, …] }` for a Redis Cluster. Commands arrive as JSON lines on stdin:
//   { "id": 1, "op": "get", "calls": [{ "slot": "a", "scope": "…", "resource": "…" }, …] }
//   { "id": 2, "op": "fault", "fault": "hang" | "hold" | "none" }
//   { "id": 3, "op": "release" }
//   { "id": 4, "op": "exit" }
// and each gets one JSON line on stdout: { "id": 1, "results": [{ slot, hash, type }], "events": { type: count } }.
// Tokens never leave the process: results carry their SHA-256.
//
// Faults apply to token requests (POST …/token), which always reach the IdP first:
//   hang — the answer never arrives; the request ends when the client's timeout aborts it.
//   hold — the answer is held back until a "release" command.
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Cluster, Redis } from 'ioredis';
import { createAuthClient } from '../../../dist/client.js';
import { createRedisStore } from '../../../dist/redis.js';

const config = JSON.parse(process.env.FLEET_WORKER_CONFIG ?? '{}');
// Never outlive the test that started this process.
setTimeout(() => process.exit(3), config.lifetimeMs ?? 60_000).unref();
process.stdin.on('end', () => process.exit(0));

const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const sha256 = (text) => createHash('sha256').update(text).digest('base64url');

const redis = config.redis.cluster
  ? new Cluster(config.redis.cluster, { redisOptions: { maxRetriesPerRequest: 2 } })
  : new Redis({ host: '127.0.0.1', port: config.redis.port, maxRetriesPerRequest: 2 });
redis.on('error', () => undefined);

let fault = 'none';
let release = () => undefined;
let released = Promise.resolve();

/** The real fetch, with the current fault applied to token requests. */
async function faultyFetch(input, init) {
  const isRequest = input instanceof Request;
  const method = isRequest ? input.method : (init?.method ?? 'GET');
  const url = new URL(isRequest ? input.url : String(input));
  const signal = isRequest ? input.signal : init?.signal;
  const response = await fetch(input, init);
  if (method !== 'POST' || !url.pathname.endsWith('/token')) return response;
  if (fault === 'hang') {
    await response.body?.cancel();
    return new Promise((_, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
  if (fault === 'hold') await released;
  return response;
}

const store = createRedisStore(redis, {
  prefix: config.prefix,
  ...(config.encryptionKey
    ? { encryptionKey: new Uint8Array(Buffer.from(config.encryptionKey, 'base64')) }
    : {}),
});
const events = [];
const auth = createAuthClient({
  issuer: config.issuer,
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  cache: store,
  fetch: faultyFetch,
  ...(config.dpop === undefined ? {} : { dpop: config.dpop }),
  ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
  ...(config.retry === undefined ? {} : { retry: config.retry }),
  ...(config.cacheLockSeconds === undefined ? {} : { cacheLockSeconds: config.cacheLockSeconds }),
  ...(config.refreshSkewSeconds === undefined
    ? {}
    : { refreshSkewSeconds: config.refreshSkewSeconds }),
  onEvent: (event) => events.push(event.type),
});

async function run(command) {
  if (command.op === 'exit') {
    auth.close();
    await store.close();
    redis.disconnect();
    send({ id: command.id });
    process.exit(0);
  }
  if (command.op === 'fault') {
    fault = command.fault;
    if (fault === 'hold') released = new Promise((resolve) => (release = resolve));
    return { id: command.id, results: [], events: {} };
  }
  if (command.op === 'release') {
    release();
    return { id: command.id, results: [], events: {} };
  }
  if (command.op !== 'get') throw new Error(`unknown op ${command.op}`);
  events.length = 0;
  const results = await Promise.all(
    command.calls.map(async ({ slot, scope, resource }) => {
      const token = await auth.getToken({ scope, resource });
      return { slot, hash: sha256(token.access_token), type: token.token_type };
    }),
  );
  const counts = {};
  for (const type of events) counts[type] = (counts[type] ?? 0) + 1;
  return { id: command.id, results, events: counts };
}

await redis.ping();
createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line);
  run(command).then(send, (error) =>
    send({ id: command.id, error: String(error?.message ?? error) }),
  );
});
send({ ready: true });
