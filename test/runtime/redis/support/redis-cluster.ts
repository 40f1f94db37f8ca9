/**
 * A real three-node Redis Cluster on 127.0.0.1 for the tests: three `redis-server`s in cluster
 * mode (free ports, no persistence, their node files in a temporary directory), joined with
 * `redis-cli --cluster create`, masters only. Started in about two seconds, stopped by the test
 * that owns it, and killed when the test process exits, whatever happened before.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * afterAll(() => cluster.stop());
 * const redis = cluster.client();
 * ```
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import { exited, freePort, launch } from './redis-server.js';

const run = promisify(execFile);

export interface TestRedisCluster {
  /** The three masters, as `new Cluster(nodes)` takes them. */
  nodes: { host: string; port: number }[];
  /** A new ioredis Cluster client, closed by {@link TestRedisCluster.stop}. */
  client(options?: ClusterOptions): Cluster;
  /** How many times `command` ran, summed over the nodes (`INFO commandstats`). */
  commandCalls(command: string): Promise<number>;
  /** Every key matching `pattern`, from every node. */
  keys(pattern: string): Promise<string[]>;
  /** Stops the three servers, disconnects every client and removes the node files. */
  stop(): Promise<void>;
}

/** Servers of every cluster this process started and has not stopped yet. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A failed beforeAll or a crashed worker must not leave redis-servers behind.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

async function untilClusterOk(ports: number[]): Promise<void> {
  const admins = ports.map(
    (port) => new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 }),
  );
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      const states = await Promise.all(
        admins.map((admin) =>
          admin.call('CLUSTER', 'INFO').then(
            (info) => String(info).includes('cluster_state:ok'),
            () => false,
          ),
        ),
      );
      if (states.every(Boolean)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(
      `the Redis Cluster on ports ${ports.join(', ')} never reported cluster_state:ok`,
    );
  } finally {
    for (const admin of admins) admin.disconnect();
  }
}

/** Starts three cluster-mode redis-servers on 127.0.0.1 and joins them into one cluster. */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  killOnExit();
  const directory = await mkdtemp(join(tmpdir(), 's2s-auth-redis-cluster-'));
  const children: ChildProcess[] = [];
  const clients: Cluster[] = [];

  async function stop(): Promise<void> {
    for (const client of clients.splice(0)) client.disconnect();
    await Promise.all(
      children.splice(0).map(async (child) => {
        await exited(child);
        running.delete(child);
      }),
    );
    await rm(directory, { recursive: true, force: true });
  }

  try {
    // Six distinct free ports: three for clients, three for the cluster bus (by default the
    // client port + 10000, which may be taken or past 65535).
    const ports = new Set<number>();
    while (ports.size < 6) ports.add(await freePort());
    const [p1, p2, p3, b1, b2, b3] = [...ports] as [number, number, number, number, number, number];
    const nodePorts = [p1, p2, p3];
    const busPorts = [b1, b2, b3];
    await Promise.all(
      nodePorts.map(async (port, index) => {
        const child = await launch(port, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(directory, `nodes-${port}.conf`),
          '--cluster-port',
          String(busPorts[index]),
          '--cluster-node-timeout',
          '2000',
          '--dir',
          directory,
        ]);
        children.push(child);
        running.add(child);
      }),
    );
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodePorts.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 10_000 },
    );
    await untilClusterOk(nodePorts);
    const nodes = nodePorts.map((port) => ({ host: '127.0.0.1', port }));

    let admin: Cluster | undefined;
    const masters = async () => {
      if (admin === undefined) {
        admin = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
        admin.on('error', () => undefined);
        clients.push(admin);
      }
      await admin.ping();
      return admin.nodes('master');
    };

    return {
      nodes,
      client(options = {}) {
        const cluster = new Cluster(nodes, {
          // Give up on a command soon and find the cluster again quickly.
          clusterRetryStrategy: (times) => Math.min(50 * times, 500),
          ...options,
          redisOptions: { maxRetriesPerRequest: 2, ...options.redisOptions },
        });
        cluster.on('error', () => undefined);
        clients.push(cluster);
        return cluster;
      },
      async commandCalls(command) {
        const counts = await Promise.all(
          (await masters()).map(async (node) => {
            const info = await node.info('commandstats');
            return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
          }),
        );
        return counts.reduce((total, count) => total + count, 0);
      },
      async keys(pattern) {
        const found = await Promise.all((await masters()).map((node) => node.keys(pattern)));
        return found.flat();
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
