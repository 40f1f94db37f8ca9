/**
 * The fleet: several processes, each with its own client from the built package (dist/),
 * sharing one real redis-server and one real IdP. Counted at the IdP, the fleet makes one
 * token request per cache key per token lifetime; DPoP-bound tokens are shared only by
 * processes holding the same DPoP key. `npm test` builds dist/ before the tests run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Redis } from 'ioredis';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, RESOURCES, SCOPES, startIdp, type TestIdp } from '../support/idp.js';
import { startRedis, type TestRedis } from './support/redis-server.js';

const workerScript = join(import.meta.dirname, 'fleet-worker.mjs');
const fleetSize = 4;

interface WorkerConfig {
  issuer: string;
  redisPort: number;
  prefix: string;
  clientId: string;
  clientSecret: string;
  encryptionKey?: string;
  dpop?: true | { privateKey: JWK; publicKey: JWK };
  refreshSkewSeconds?: number;
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

  constructor(config: WorkerConfig) {
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
        () => reject(new Error(`a fleet worker did not answer ${command.op}`)),
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

  async exit(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    await this.#send({ op: 'exit' }).catch(() => this.#child.kill('SIGKILL'));
    await exited;
  }
}

let idp: TestIdp;
let shortIdp: TestIdp;
let redis: TestRedis;
let admin: Redis;
const workers: Worker[] = [];
let prefixes = 0;

beforeAll(async () => {
  if (!existsSync(join(import.meta.dirname, '..', '..', 'dist', 'redis.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  [idp, shortIdp, redis] = await Promise.all([
    startIdp(),
    startIdp({ accessTokenTTL: 4 }),
    startRedis(),
  ]);
  admin = redis.client();
});

afterAll(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.exit()));
  await Promise.all([idp.close(), shortIdp.close(), redis.stop()]);
});

const encryptionKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');

async function fleet(configs: Omit<WorkerConfig, 'redisPort' | 'prefix'>[]): Promise<Worker[]> {
  const prefix = `fleet-${++prefixes}:`;
  const started = configs.map((config) => new Worker({ ...config, redisPort: redis.port, prefix }));
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

async function commandCalls(command: string): Promise<number> {
  const info = await admin.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

describe('a fleet of processes sharing one Redis', () => {
  it(`makes one token request per cache key: ${fleetSize} processes, 2 keys, 2 requests`, async () => {
    const members = await fleet(Array.from({ length: fleetSize }, () => basic(idp.issuer)));
    const before = idp.count('/token', 'POST');
    const getsBefore = await commandCalls('get');
    const replies = await Promise.all(members.map((worker) => worker.get(burst)));
    const requests = idp.count('/token', 'POST') - before;
    const gets = (await commandCalls('get')) - getsBefore;
    console.info(
      `fleet: ${fleetSize} processes × ${burst.length} concurrent getToken over 2 cache keys → ${requests} token requests at the IdP, ${gets} Redis GETs`,
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
      `fleet: ${fleetSize} processes, 2 cache keys, two token lifetimes → ${firstRequests} + ${total - firstRequests} token requests at the IdP`,
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
      `fleet: 6 DPoP processes (2 on key A, 2 on key B, 2 with keys of their own), 1 scope set → ${requests} token requests at the IdP`,
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
});
