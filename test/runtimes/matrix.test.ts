/**
 * The same conformance suite (conformance.mjs, against the built dist/index.js) on Node 20, 22
 * and 24, Bun, Deno and workerd. Each runtime gets its own IdPs and protected endpoint on
 * 127.0.0.1, served by this Node process; the table of results is printed and written to
 * artifacts/runtime-matrix.md.
 *
 * The pinned runtimes are installed on first use (scripts/runtimes-install.mjs, ~15 s, from
 * the npm registry); the matrix itself takes a few seconds. Needs `npm run build` first.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from './harness.js';
import {
  formatMatrix,
  RUNTIMES,
  runRuntime,
  type Installation,
  type RuntimeResult,
} from './runtimes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Runtimes started at once: each is a process (or workerd) plus two IdPs here; two cores. */
const CONCURRENCY = 3;

const results = new Map<string, RuntimeResult>();
let installation: Installation = { runtimes: {} };
let table = '';

beforeAll(async () => {
  if (!existsSync(join(root, 'dist', 'index.js'))) {
    throw new Error('dist/index.js is missing: run `npm run build` first');
  }
  const installStarted = performance.now();
  installation = await install();
  const installSeconds = (performance.now() - installStarted) / 1000;
  const matrixStarted = performance.now();
  const queue = [...RUNTIMES];
  const worker = async () => {
    for (let runtime = queue.shift(); runtime; runtime = queue.shift()) {
      const harness = await startHarness();
      try {
        results.set(
          runtime.id,
          await runRuntime(
            runtime,
            harness.config(runtime.label, {
              fileSystem: runtime.fileSystem,
              clientCertificates: runtime.clientCertificates,
            }),
            installation,
          ),
        );
      } finally {
        await harness.close();
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const ordered = RUNTIMES.flatMap((runtime) => results.get(runtime.id) ?? []);
  table = `${formatMatrix(ordered)}\n\nruntimes installed or checked in ${installSeconds.toFixed(1)} s; matrix ran in ${((performance.now() - matrixStarted) / 1000).toFixed(1)} s`;
  mkdirSync(join(root, 'artifacts'), { recursive: true });
  writeFileSync(
    join(root, 'artifacts', 'runtime-matrix.md'),
    `${table}\n\n${ordered.map((result) => `## ${result.label} ${result.version}\n\n\`\`\`\n${result.output.trim()}\n\`\`\`\n`).join('\n')}`,
  );
}, 10 * 60_000);

afterAll(() => {
  if (table) console.log(`\nRuntime conformance matrix\n\n${table}\n`);
});

describe('the conformance suite', () => {
  it.each(RUNTIMES.map((runtime) => [runtime.label, runtime.id] as const))(
    'passes every check on %s',
    (_label, id) => {
      const result = results.get(id);
      expect(result, `${id} did not run`).toBeDefined();
      if (!result) return;
      const report = `${result.label} ${result.version}:\n${result.output}`;
      expect(result.outcome, report).toBe('passed');
      expect(result.failed, report).toBe(0);
      // The same suite everywhere: as many checks as on the Node running this test.
      const reference = results.get('node');
      expect(result.passed, report).toBe((reference?.passed ?? 0) + (reference?.failed ?? 0));
      expect(result.passed).toBeGreaterThan(0);
    },
  );
});

describe('the conformance suite itself', () => {
  it('fails, one line per failed check, when the IdP it is given is down', async () => {
    const harness = await startHarness();
    try {
      const config = harness.config('Node, dead IdP');
      const node = RUNTIMES[0]!;
      const result = await runRuntime(
        node,
        { ...config, issuer: config.closedUrl, nonceIssuer: config.closedUrl },
        installation,
      );
      expect(result.outcome).toBe('failed');
      expect(result.failed).toBeGreaterThan(10);
      expect(result.output).toMatch(
        /^not ok 1 - discovery and a client_credentials Bearer token: /m,
      );
      expect(result.output.trim().split('\n').pop()).toBe(
        `${result.passed} passed, ${result.failed} failed`,
      );
    } finally {
      await harness.close();
    }
  });
});

/** Runs the install script without blocking this process (it may download for ~15 s). */
function install(): Promise<Installation> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [join(root, 'scripts', 'runtimes-install.mjs'), '--json'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as Installation);
      } catch {
        resolve({
          installError: `scripts/runtimes-install.mjs gave no result (exit ${code}): ${stderr}`,
          runtimes: {},
        });
      }
    });
  });
}
