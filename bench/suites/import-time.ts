/**
 * Cold import time: a fresh Node process imports one module, in interleaved rounds. Two
 * numbers per module, both medians over the rounds:
 *
 * - import: the time the `import()` itself takes, measured inside the child;
 * - added: the child's wall time minus that of a child that imports nothing, in the same round.
 *
 * `s2s-auth` is imported by its package name (the built dist/, through the exports map), and
 * the two builds the benchmarks run are imported by path.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median, printTable, size, suite } from '../lib/harness.js';

const ROUNDS = size(15, 1);
const root = fileURLToPath(new URL('../../../../', import.meta.url));

interface Module {
  name: string;
  specifier: string | undefined;
}

const bench = (file: string) => new URL(`../lib/${file}`, import.meta.url).href;
const hasDist = existsSync(`${root}dist/index.js`);

const modules: Module[] = [
  { name: 'bare node (imports nothing)', specifier: undefined },
  ...(hasDist
    ? [
        { name: 's2s-auth (package, dist/)', specifier: 's2s-auth' },
        { name: 's2s-auth/client (package)', specifier: 's2s-auth/client' },
        { name: 's2s-auth/server (package)', specifier: 's2s-auth/server' },
      ]
    : []),
  { name: 's2s-auth, Node build (bench bundle)', specifier: bench('node.mjs') },
  { name: 's2s-auth, default build (bench bundle)', specifier: bench('web.mjs') },
  { name: 'openid-client', specifier: 'openid-client' },
  { name: 'jose', specifier: 'jose' },
  { name: 'oauth4webapi', specifier: 'oauth4webapi' },
  { name: 'fast-jwt', specifier: 'fast-jwt' },
  { name: 'aws-jwt-verify', specifier: 'aws-jwt-verify' },
  { name: 'jsonwebtoken', specifier: 'jsonwebtoken' },
];

function child(specifier: string | undefined): Promise<{ wallMs: number; importMs: number }> {
  const code =
    specifier === undefined
      ? 'process.stdout.write("0")'
      : `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const run = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    run.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    run.on('error', reject);
    run.on('exit', (status) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (status !== 0) reject(new Error(`importing ${specifier} failed (${status})`));
      else resolve({ wallMs, importMs: Number(out) });
    });
  });
}

await suite('import-time', async (report) => {
  const wall = new Map<string, number[]>(modules.map((module) => [module.name, []]));
  const imports = new Map<string, number[]>(modules.map((module) => [module.name, []]));
  const added = new Map<string, number[]>(modules.map((module) => [module.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const times = new Map<string, number>();
    for (let k = 0; k < modules.length; k++) {
      const module = modules[(k + round) % modules.length]!;
      const { wallMs, importMs } = await child(module.specifier);
      times.set(module.name, wallMs);
      wall.get(module.name)?.push(wallMs);
      imports.get(module.name)?.push(importMs);
    }
    const bare = times.get('bare node (imports nothing)')!;
    for (const module of modules) added.get(module.name)?.push(times.get(module.name)! - bare);
  }
  const rows = modules.map((module) => ({
    name: module.name,
    importMs: median(imports.get(module.name)!),
    addedMs: median(added.get(module.name)!),
    wallMs: median(wall.get(module.name)!),
  }));
  const openid = rows.find((row) => row.name === 'openid-client');
  console.log(`\n### Cold import, ${ROUNDS} interleaved rounds (medians)`);
  printTable(
    [
      'module',
      'import() in the child',
      'added wall time over bare node',
      'vs openid-client (added)',
    ],
    rows.map((row) => [
      row.name,
      `${row.importMs.toFixed(1)} ms`,
      `${row.addedMs.toFixed(1)} ms`,
      openid && openid.addedMs > 0 && row.name !== 'bare node (imports nothing)'
        ? `${(row.addedMs / openid.addedMs).toFixed(2)}×`
        : '',
    ]),
  );
  if (!hasDist)
    console.log('note: dist/ is missing (npm run build): the package rows are left out.');
  report.measurements.rounds = ROUNDS;
  report.measurements.modules = rows;
});
