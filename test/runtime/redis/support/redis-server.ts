/**
 * A real redis-server on 127.0.0.1 for the tests: a free port, no persistence, started and
 * stopped by the test that owns it. Needs the `redis-server` binary (Debian: `redis-server`).
 *
 * @example
 * ```ts
 * const server = await startRedis();
 * afterAll(() => server.stop());
 * const redis = server.client();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';

export interface TestRedis {
  port: number;
  /** A new ioredis client of this server, closed by {@link TestRedis.stop}. */
  client(options?: RedisOptions): Redis;
  /** Starts the server again on the same port after {@link TestRedis.kill}. */
  restart(): Promise<void>;
  /** Stops the server process, leaving the clients to find it gone. */
  kill(): Promise<void>;
  /** Stops the server and disconnects every client made with {@link TestRedis.client}. */
  stop(): Promise<void>;
}

/** A port of 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Runs redis-server on `port` of 127.0.0.1 without persistence; resolves once it accepts connections. */
export function launch(port: number, extraArguments: string[] = []): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
      ...extraArguments,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise<ChildProcess>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on port ${port}:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(
          `redis-server could not be run (is the redis-server package installed?): ${error.message}`,
        ),
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
}

/** Stops `child` (SIGTERM, then SIGKILL after 5 s) and resolves once it has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts redis-server on a free port of 127.0.0.1; a few attempts in case a port is taken meanwhile. */
export async function startRedis(): Promise<TestRedis> {
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; attempt < 5 && child === undefined; attempt++) {
    port = await freePort();
    child = await launch(port).catch((error: unknown) => {
      if (attempt === 4) throw error;
      return undefined;
    });
  }
  const clients: Redis[] = [];
  let current: ChildProcess | undefined = child;

  async function kill() {
    const running = current;
    current = undefined;
    if (running) await exited(running);
  }

  return {
    port,
    client(options = {}) {
      const redis = new Redis({
        host: '127.0.0.1',
        port,
        // Reconnect quickly and give up on a command soon: tests stop the server on purpose.
        retryStrategy: (times) => Math.min(50 * times, 500),
        maxRetriesPerRequest: 2,
        ...options,
      });
      redis.on('error', () => undefined);
      clients.push(redis);
      return redis;
    },
    async restart() {
      if (current !== undefined) return;
      current = await launch(port);
    },
    kill,
    async stop() {
      for (const redis of clients.splice(0)) redis.disconnect();
      await kill();
    },
  };
}
