/**
 * The fleet: several processes, each with its own client from the built package (dist/),
 * sharing one real IdP and either one real redis-server or a real three-node Redis Cluster.
 * Counted at the IdP, the fleet makes one token request per cache key per token lifetime;
 * DPoP-bound tokens are shared only by processes holding the same DPoP key; a holder that
 * outlives its lock leaves the next holder's lock alone. `npm test` builds dist/ before the
 * tests run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Cluster, Redis } from 'ioredis';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient } from '../../../src/client.js';
import { createRedisStore } from '../../../src/redis.js';
import { CLIENTS, RESOURCES, SCOPES, startIdp, type TestIdp } from '../../support/idp.js';
import { startRedisCluster, type TestRedisCluster } from './support/redis-cluster.js';
import { startRedis, type TestRedis } from './support/redis-server.js';

const workerScript = join(import.meta.dirname, 'fleet-worker.mjs');
const fleetSize = 4;

interface WorkerConfig {
  issuer: string;
  redis: { port: number } | { cluster: { host: string; port: number }[] };
  prefix: string;
  clientId: string;
  clientSecret: string;
  encryptionKey?: string;
  dpop?: true | { privateKey: JWK; publicKey: JWK };
  refreshSkewSeconds?: number;
  timeoutMs?: number;
  retry?: false;
  cacheLockSeconds?: number;
}

interface Call {
  slot: string;
  scope: string;
  resource: string;
}

interface Reply {
  id: number;
  error?: string;
  results: { slot: string; hash: string; type: string }[];
  events: Record<string, number>;
}

/** One fleet member: a child process speaking JSON lines. */
class Worker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #next = 0;
  readonly ready: Promise<void>;
  readonly prefix: string;

  constructor(config: WorkerConfig) {
    this.prefix = config.prefix;
    this.#child = spawn(process.execPath, [workerScript], {
      env: { ...process.env, FLEET_WORKER_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    this.#child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`a fleet worker did not start:\n${stderr}`)),
        15_000,
      );
      this.#child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`a fleet worker exited with ${code}:\n${stderr}`));
      });
      createInterface({ input: this.#child.stdout! }).on('line', (line) => {
        const message = JSON.parse(line) as Partial<Reply> & { ready?: boolean };
        if (message.ready) {
          clearTimeout(timer);
          resolve();
        } else if (message.id !== undefined) {
          this.#pending.get(message.id)?.(message as Reply);
          this.#pending.delete(message.id);
        }
      });
    });
  }

  #send(command: Record<string, unknown>): Promise<Reply> {
    const id = ++this.#next;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`a fleet worker did not answer ${String(command.op)}`)),
        20_000,
      );
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.error) reject(new Error(reply.error));
        else resolve(reply);
      });
      this.#child.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  get(calls: Call[]): Promise<Reply> {
    return this.#send({ op: 'get', calls });
  }

  /** From now on its token requests reach the IdP, then `hang` or are held until {@link release}. */
  async fault(fault: 'hang' | 'hold' | 'none'): Promise<void> {
    await this.#send({ op: 'fault', fault });
  }

  async release(): Promise<void> {
    await this.#send({ op: 'release' });
  }

  async exit(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    await this.#send({ op: 'exit' }).catch(() => this.#child.kill('SIGKILL'));
    await exited;
  }
}

/** What the tests need of the Redis the fleet shares, read with a client of their own. */
interface Backend {
  redis: WorkerConfig['redis'];
  /** The test's own client of it. */
  admin: Redis | Cluster;
  /** How many times `command` ran on it (on a cluster: on every node). */
  commandCalls(command: string): Promise<number>;
  keys(pattern: string): Promise<string[]>;
}

const backendNames = ['one Redis', 'a three-node Redis Cluster'] as const;
type BackendName = (typeof backendNames)[number];

let idp: TestIdp;
let shortIdp: TestIdp;
let server: TestRedis;
let cluster: TestRedisCluster;
const backends = new Map<BackendName, Backend>();
const workers: Worker[] = [];
let prefixes = 0;

beforeAll(async () => {
  if (!existsSync(join(import.meta.dirname, '..', '..', '..', 'dist', 'redis.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  [idp, shortIdp, server, cluster] = await Promise.all([
    startIdp(),
    startIdp({ accessTokenTTL: 4 }),
    startRedis(),
    startRedisCluster(),
  ]);
  const admin = server.client();
  backends.set('one Redis', {
    redis: { port: server.port },
    admin,
    async commandCalls(command) {
      const info = await admin.info('commandstats');
      return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    },
    keys: (pattern) => admin.keys(pattern),
  });
  backends.set('a three-node Redis Cluster', {
    redis: { cluster: cluster.nodes },
    admin: cluster.client(),
    commandCalls: (command) => cluster.commandCalls(command),
    keys: (pattern) => cluster.keys(pattern),
  });
});

afterAll(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.exit()));
  await Promise.all([idp?.close(), shortIdp?.close(), server?.stop(), cluster?.stop()]);
});

const encryptionKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');

const tokenRequests = (at: TestIdp = idp) => at.count('/token', 'POST');

/** Resolves once `condition` holds, checking every 20 ms; fails after `ms`. */
async function until(condition: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 20) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`a condition did not hold within ${ms} ms`);
}

type FleetConfig = Omit<WorkerConfig, 'redis' | 'prefix'>;

/** Starts one process per config, all on `backend` under a prefix of their own. */
async function startFleet(backend: Backend, configs: FleetConfig[]): Promise<Worker[]> {
  const prefix = `fleet-${++prefixes}:`;
  const started = configs.map((config) => new Worker({ ...config, redis: backend.redis, prefix }));
  workers.push(...started);
  await Promise.all(started.map((worker) => worker.ready));
  return started;
}

const basic = (issuer: string) => ({
  issuer,
  clientId: CLIENTS.basic.clientId,
  clientSecret: CLIENTS.basic.clientSecret,
  encryptionKey,
});

const orders: Call = { slot: 'orders', scope: SCOPES.ordersRead, resource: RESOURCES.jwt };
const inventory: Call = {
  slot: 'inventory',
  scope: SCOPES.inventoryRead,
  resource: RESOURCES.es256,
};
/** Each process asks for each slot three times at once. */
const burst = [orders, orders, orders, inventory, inventory, inventory];

/** Every process's tokens per slot: one distinct token per slot across the fleet. */
function tokensBySlot(replies: Reply[]): Map<string, Set<string>> {
  const slots = new Map<string, Set<string>>();
  for (const reply of replies) {
    for (const { slot, hash } of reply.results)
      slots.set(slot, (slots.get(slot) ?? new Set()).add(hash));
  }
  return slots;
}

const sum = (replies: Reply[], event: string) =>
  replies.reduce((total, reply) => total + (reply.events[event] ?? 0), 0);

describe.each(backendNames)('a fleet of processes sharing %s', (name) => {
  const backend = () => backends.get(name)!;
  const commandCalls = (command: string) => backend().commandCalls(command);

  const fleet = (configs: FleetConfig[]) => startFleet(backend(), configs);

  it(`makes one token request per cache key: ${fleetSize} processes, 2 keys, 2 requests`, async () => {
    const members = await fleet(Array.from({ length: fleetSize }, () => basic(idp.issuer)));
    const before = idp.count('/token', 'POST');
    const getsBefore = await commandCalls('get');
    const replies = await Promise.all(members.map((worker) => worker.get(burst)));
    const requests = idp.count('/token', 'POST') - before;
    const gets = (await commandCalls('get')) - getsBefore;
    console.info(
      `fleet on ${name}: ${fleetSize} processes × ${burst.length} concurrent getToken over 2 cache keys → ${requests} token requests at the IdP, ${gets} Redis GETs`,
    );

    expect(requests).toBe(2);
    const slots = tokensBySlot(replies);
    expect(slots.get('orders')?.size).toBe(1);
    expect(slots.get('inventory')?.size).toBe(1);
    // One process fetched each token; every other process took it from Redis.
    expect(sum(replies, 'token_fetched')).toBe(2);
    expect(sum(replies, 'shared_cache_hit')).toBe(2 * (fleetSize - 1));
    expect(sum(replies, 'store_error')).toBe(0);
    // Waiters sleep on the lock: a read before and after waiting, not a polling loop.
    expect(gets).toBeLessThanOrEqual(2 * fleetSize * 3);

    // Each process now serves from its own cache: nobody asks the IdP or Redis again.
    const again = await Promise.all(members.map((worker) => worker.get(burst)));
    expect(idp.count('/token', 'POST') - before).toBe(2);
    expect(sum(again, 'cache_hit')).toBe(fleetSize * burst.length);
    await Promise.all(members.map((worker) => worker.exit()));
  });

  it('makes one token request per cache key per token lifetime', async () => {
    // 4-second tokens with a 30-second skew are served for half their life: about 2 s.
    const members = await fleet(Array.from({ length: fleetSize }, () => basic(shortIdp.issuer)));
    const before = shortIdp.count('/token', 'POST');
    const first = await Promise.all(members.map((worker) => worker.get(burst)));
    const firstRequests = shortIdp.count('/token', 'POST') - before;
    await Promise.all(members.map((worker) => worker.get(burst)));
    const stillFirst = shortIdp.count('/token', 'POST') - before;
    await new Promise((resolve) => setTimeout(resolve, 2_600));
    const second = await Promise.all(members.map((worker) => worker.get(burst)));
    const total = shortIdp.count('/token', 'POST') - before;
    console.info(
      `fleet on ${name}: ${fleetSize} processes, 2 cache keys, two token lifetimes → ${firstRequests} + ${total - firstRequests} token requests at the IdP`,
    );

    expect([firstRequests, stillFirst, total]).toEqual([2, 2, 4]);
    const [a, b] = [tokensBySlot(first), tokensBySlot(second)];
    for (const slot of ['orders', 'inventory']) {
      expect(a.get(slot)?.size).toBe(1);
      expect(b.get(slot)?.size).toBe(1);
      expect([...b.get(slot)!][0]).not.toBe([...a.get(slot)!][0]);
    }
    await Promise.all(members.map((worker) => worker.exit()));
  });

  it('shares a DPoP-bound token only between processes holding the same DPoP key', async () => {
    const pair = async () => {
      const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true });
      return { privateKey: await exportJWK(privateKey), publicKey: await exportJWK(publicKey) };
    };
    const [keyA, keyB] = await Promise.all([pair(), pair()]);
    const dpopClient = {
      issuer: idp.issuer,
      clientId: CLIENTS.dpopOnly.clientId,
      clientSecret: CLIENTS.dpopOnly.clientSecret,
      encryptionKey,
    };
    const members = await fleet([
      { ...dpopClient, dpop: keyA },
      { ...dpopClient, dpop: keyA },
      { ...dpopClient, dpop: keyB },
      { ...dpopClient, dpop: keyB },
      { ...dpopClient, dpop: true },
      { ...dpopClient, dpop: true },
    ]);
    const before = idp.count('/token', 'POST');
    const replies = await Promise.all(members.map((worker) => worker.get([orders, orders])));
    const requests = idp.count('/token', 'POST') - before;
    console.info(
      `fleet on ${name}: 6 DPoP processes (2 on key A, 2 on key B, 2 with keys of their own), 1 scope set → ${requests} token requests at the IdP`,
    );

    expect(requests).toBe(4);
    const token = (index: number) => replies[index]!.results[0]!;
    for (const reply of replies)
      expect(new Set(reply.results.map((result) => result.type))).toEqual(new Set(['DPoP']));
    expect(token(1).hash).toBe(token(0).hash);
    expect(token(3).hash).toBe(token(2).hash);
    expect(new Set([0, 2, 4, 5].map((index) => token(index).hash)).size).toBe(4);
    await Promise.all(members.map((worker) => worker.exit()));
  });

  it("keeps the next holder's lock when a holder outlives its own: 2 token requests, not 3", async () => {
    // The slow holder's lock lives 1 s; its token request hangs until its 1.5 s timeout.
    const [slow, next, late] = (await fleet([
      { ...basic(idp.issuer), timeoutMs: 1_500, retry: false, cacheLockSeconds: 1 },
      basic(idp.issuer),
      basic(idp.issuer),
    ])) as [Worker, Worker, Worker];
    // Discovery first, through another cache key, so only token requests of `orders` follow.
    await Promise.all([slow, next, late].map((worker) => worker.get([inventory])));
    const lockPattern = `${slow.prefix}token-lock:*`;
    const before = tokenRequests();

    await slow.fault('hang');
    const slowCall = slow.get([orders]).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    await until(() => tokenRequests() === before + 1);
    await until(async () => (await backend().keys(lockPattern)).length === 0);

    // Its lock ran out: the next process takes the lock and asks the IdP, held back for now.
    await next.fault('hold');
    const nextCall = next.get([orders]);
    await until(() => tokenRequests() === before + 2);
    const [lockKey] = await backend().keys(lockPattern);
    const nextOwner = await backend().admin.get(lockKey!);
    // A random owner token in the clear: neither sealed nor anything like a token.
    expect(nextOwner).toMatch(/^[\w-]{22}$/);

    // The slow holder gives up and releases its lock, which is no longer there to release.
    const slowError = await slowCall;
    expect(slowError?.message).toMatch(/did not answer within 1500 ms/);
    expect(await backend().admin.get(lockKey!)).toBe(nextOwner);

    // A third process finds the lock taken and waits instead of asking the IdP.
    const lateCall = late.get([orders]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(tokenRequests() - before).toBe(2);

    await next.release();
    const [fromNext, fromLate] = await Promise.all([nextCall, lateCall]);
    const requests = tokenRequests() - before;
    console.info(
      `fleet on ${name}: a holder outliving its 1 s lock, the next holder, a late process → ${requests} token requests at the IdP`,
    );
    expect(requests).toBe(2);
    expect(fromLate.results[0]!.hash).toBe(fromNext.results[0]!.hash);
    expect(fromLate.events.shared_cache_hit).toBe(1);
    expect(await backend().keys(lockPattern)).toEqual([]);
    await Promise.all([slow, next, late].map((worker) => worker.exit()));
  });
});

describe('the shared cache on a Redis Cluster', () => {
  it("keeps a token and its lock in one hash slot, the token's own: the hash tag is not the prefix", async () => {
    const prefix = `fleet-${++prefixes}:`;
    const store = createRedisStore(cluster.client(), {
      prefix,
      encryptionKey: crypto.getRandomValues(new Uint8Array(32)),
    });
    const locks: string[] = [];
    const setIfAbsent = store.setIfAbsent.bind(store);
    store.setIfAbsent = (key, value, ttl) => (locks.push(key), setIfAbsent(key, value, ttl));
    const auth = createAuthClient({
      issuer: idp.issuer,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      cache: store,
    });
    await auth.getToken({ scope: orders.scope, resource: orders.resource });
    await auth.getToken({ scope: inventory.scope, resource: inventory.resource });
    await store.close();
    const admin = backends.get('a three-node Redis Cluster')!.admin;
    const slotOf = async (key: string) => Number(await admin.call('CLUSTER', 'KEYSLOT', key));
    expect(locks).toHaveLength(2);
    for (const lock of locks) {
      const tag = /^token-lock:\{([\w-]+)\}$/.exec(lock)?.[1];
      expect(tag, lock).toBeDefined();
      const slot = await slotOf(tag!);
      const [tokenKey] = await cluster.keys(`${prefix}token:{${tag}}`);
      expect(tokenKey).toBeDefined();
      expect(await slotOf(tokenKey!)).toBe(slot);
      expect(await slotOf(tokenKey!.replace(':token:', ':token-lock:'))).toBe(slot);
    }
  });

  it('releases a lock by compare-and-delete on the node of its slot, and wakes a waiter connected through the cluster', async () => {
    const prefix = `fleet-${++prefixes}:`;
    const holder = createRedisStore(cluster.client(), { prefix });
    const waiter = createRedisStore(cluster.client(), { prefix });
    // Locks in every third of the slot space, so every node serves one.
    const locks = ['token-lock:{a}', 'token-lock:{b}', 'token-lock:{c}'];
    const admin = backends.get('a three-node Redis Cluster')!.admin as Cluster;
    const owners = new Set<string>();
    for (const lock of locks) {
      const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', prefix + lock));
      owners.add(String(admin.slots[slot]?.[0]));
    }
    expect(owners.size).toBe(3);
    try {
      for (const lock of locks) {
        expect(await holder.setIfAbsent(lock, 'owner', 30)).toBe(true);
        const waited = waiter.waitUntilAbsent(lock, 5_000);
        expect(await holder.compareAndDelete(lock, 'someone-else')).toBe(false);
        const started = Date.now();
        expect(await holder.compareAndDelete(lock, 'owner')).toBe(true);
        expect(await waited).toBe(true);
        expect(Date.now() - started).toBeLessThan(500);
        expect(await admin.exists(prefix + lock)).toBe(0);
      }
    } finally {
      await Promise.all([holder.close(), waiter.close()]);
    }
  });
});
