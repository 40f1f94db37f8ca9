// One instance of a fleet for test/redis/fleet.test.ts: a separate process with its own
// s2s-auth client (the BUILT package from dist/), sharing one Redis with its siblings.
//
// Configuration comes in FLEET_WORKER_CONFIG (JSON). Commands arrive as JSON lines on stdin:
//   { "id": 1, "op": "get", "calls": [{ "slot": "a", "scope": "…", "resource": "…" }, …] }
//   { "id": 2, "op": "exit" }
// and each gets one JSON line on stdout: { "id": 1, "results": [{ slot, hash, type }], "events": { type: count } }.
// Tokens never leave the process: results carry their SHA-256.
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { createAuthClient } from '../../dist/client.js';
import { createRedisStore } from '../../dist/redis.js';

const config = JSON.parse(process.env.FLEET_WORKER_CONFIG ?? '{}');
// Never outlive the test that started this process.
setTimeout(() => process.exit(3), config.lifetimeMs ?? 60_000).unref();
process.stdin.on('end', () => process.exit(0));

const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const sha256 = (text) => createHash('sha256').update(text).digest('base64url');

const redis = new Redis({ host: '127.0.0.1', port: config.redisPort, maxRetriesPerRequest: 2 });
redis.on('error', () => undefined);
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
  ...(config.dpop === undefined ? {} : { dpop: config.dpop }),
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
