#!/usr/bin/env node
// Runs the benchmark suites, each in a fresh Node process (with --expose-gc), and prints their
// tables and a summary of the targets. JSON results go to bench/results/<suite>.json in a full
// run; a smoke run (a few operations each, no timing meaning at all) writes to a temporary
// directory and only proves that every contender runs and gives the right answers.
//
//   node bench/run.mjs                    every suite, full size (npm run bench)
//   node bench/run.mjs --smoke            every suite, tiny (npm run bench:smoke, for CI)
//   node bench/run.mjs verify-distinct    only the named suites
//   node bench/run.mjs --profile dpop     also write a --cpu-prof profile per suite and print
//                                         the functions that take the most self time
//
// S2S_BENCH_SUITE_LIMIT_MS overrides how long a suite may run before it counts as stalled.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { buildAll, outDir, root } from './build.mjs';
import { evaluateTargets, printTargets } from './targets.mjs';
import { summariseProfile } from './profile-summary.mjs';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const profile = args.includes('--profile');
const named = args.filter((arg) => !arg.startsWith('--'));

const order = [
  'verify-distinct',
  'verify-repeated',
  'get-token',
  'dpop',
  'cold-get-token',
  'memory',
  'import-time',
  'bundle-size',
  'e2e-middleware',
];

await buildAll();
const available = (await readdir(join(outDir, 'suites')))
  .filter((file) => file.endsWith('.mjs'))
  .map((file) => file.replace(/\.mjs$/, ''));
for (const name of named) {
  if (!available.includes(name)) {
    console.error(`unknown suite ${name}; suites: ${available.join(', ')}`);
    process.exit(2);
  }
}
const suites = (named.length > 0 ? named : order).filter((name) => available.includes(name));

const resultsDir = smoke ? join(outDir, 'results-smoke') : join(root, 'bench', 'results');
const profileDir = join(root, 'bench', 'results', 'profiles');
await mkdir(resultsDir, { recursive: true });
if (profile) await mkdir(profileDir, { recursive: true });

/**
 * A suite that runs longer than this is stopped and counted as failed (a smoke run takes a
 * second or two per suite). Before it is stopped it is asked for a Node diagnostic report, and
 * the part that says where it waits is printed. No report at all means the main thread is
 * blocked outside JavaScript, in native code: attach a debugger (`gdb -p`) to see where. That is
 * how a rare stall of the key fixtures was traced to a Node 20 deadlock (bench/lib/fixtures.ts).
 */
const SUITE_LIMIT_MS =
  Number(process.env['S2S_BENCH_SUITE_LIMIT_MS']) || (smoke ? 45_000 : 300_000);
const STALLED = 'stalled';
const reportDir = join(outDir, 'stall-reports');

/** What a diagnostic report says about where a process waits. */
async function describeStall(file) {
  for (let tries = 0; tries < 30 && !existsSync(file); tries++) await sleep(100);
  if (!existsSync(file))
    return 'no diagnostic report was written: the main thread is blocked in native code';
  const report = JSON.parse(await readFile(file, 'utf8'));
  // What keeps the process alive: referenced handles (timers with their time left, sockets);
  // with none, only work queued on libuv's thread pool (crypto, file system, DNS) can.
  const handles = (report.libuv ?? [])
    .filter((handle) => handle.is_active && handle.is_referenced && handle.type !== 'loop')
    .map((handle) =>
      handle.type === 'timer'
        ? `timer firing in ${handle.firesInMsFromNow} ms`
        : [handle.type, handle.localEndpoint?.port, handle.remoteEndpoint?.port]
            .filter(Boolean)
            .join(' '),
    );
  return [
    `diagnostic report: ${file}`,
    report.javascriptStack?.message
      ? `JavaScript stack: ${report.javascriptStack.message}`
      : 'JavaScript stack: none (waiting in the event loop)',
    ...(report.javascriptStack?.stack ?? []).slice(0, 12).map((line) => `  ${line.trim()}`),
    `referenced handles: ${handles.length === 0 ? 'none (so thread-pool work is pending)' : handles.join('; ')}`,
  ].join('\n');
}

async function runSuite(name) {
  await mkdir(reportDir, { recursive: true });
  const reportFile = join(reportDir, `${name}-${Date.now()}.json`);
  const flags = [
    '--expose-gc',
    '--report-on-signal',
    '--report-signal=SIGUSR2',
    `--report-directory=${reportDir}`,
    `--report-filename=${reportFile.slice(reportDir.length + 1)}`,
  ];
  if (profile)
    flags.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...flags, join(outDir, 'suites', `${name}.mjs`)], {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        S2S_BENCH_MODE: smoke ? 'smoke' : 'full',
        S2S_BENCH_OUT: join(resultsDir, `${name}.json`),
      },
    });
    let stalled = false;
    const limit = setTimeout(async () => {
      console.error(`${name}: still running after ${SUITE_LIMIT_MS / 1000} s, stopped`);
      stalled = true;
      child.kill('SIGUSR2');
      console.error(await describeStall(reportFile));
      child.kill('SIGKILL');
    }, SUITE_LIMIT_MS);
    child.on('exit', (code) => {
      clearTimeout(limit);
      resolve(stalled ? STALLED : (code ?? 1));
    });
  });
}

/** The machine and the versions of everything measured, for docs/benchmarks.md. */
async function environment() {
  const versions = {};
  for (const name of [
    'jose',
    'fast-jwt',
    'aws-jwt-verify',
    'jsonwebtoken',
    'openid-client',
    'oauth4webapi',
    'zod',
    'openapi-fetch',
    'esbuild',
    'oidc-provider',
  ]) {
    versions[name] = JSON.parse(
      await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8'),
    ).version;
  }
  const processors = cpus();
  return {
    at: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    os: `${process.platform} ${release()}`,
    cpu: processors[0]?.model ?? 'unknown',
    cores: processors.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    s2sAuth: JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version,
    versions,
  };
}

const started = Date.now();
const failed = [];
for (const name of suites) {
  const suiteStarted = Date.now();
  if (existsSync(join(resultsDir, `${name}.json`))) await rm(join(resultsDir, `${name}.json`));
  const code = await runSuite(name);
  console.log(
    `(${name}: ${((Date.now() - suiteStarted) / 1000).toFixed(1)} s${code === 0 ? '' : `, exit ${code}`})`,
  );
  if (code !== 0) failed.push(name);
  if (profile && code === 0) {
    console.log(`\nprofile of ${name} (self time, top functions):`);
    await summariseProfile(join(profileDir, `${name}.cpuprofile`), { top: 25 });
  }
}

// Targets are evaluated over every suite's latest results, this run's and earlier ones.
const reports = [];
for (const name of order) {
  const file = join(resultsDir, `${name}.json`);
  if (existsSync(file)) reports.push(JSON.parse(await readFile(file, 'utf8')));
}
if (!smoke) {
  await writeFile(
    join(resultsDir, 'environment.json'),
    `${JSON.stringify(await environment(), null, 2)}\n`,
  );
  const targets = evaluateTargets(reports);
  printTargets(targets);
  await writeFile(
    join(resultsDir, 'targets.json'),
    `${JSON.stringify({ node: process.version, at: new Date().toISOString(), targets }, null, 2)}\n`,
  );
}
console.log(
  `\n${suites.length} suites in ${((Date.now() - started) / 1000).toFixed(0)} s${smoke ? ' (smoke run)' : ''}`,
);
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exit(1);
}
