#!/usr/bin/env node
// Runs one profiling target of bench/profile/ and prints the functions with the most self time
// in its CPU profile (taken with the inspector around the measured loop only). The profile goes
// to bench/results/profiles/<target>.cpuprofile (not committed); open it in Chrome DevTools
// for the full picture.
//
//   node bench/profile.mjs verify-token
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildAll, outDir, root } from './build.mjs';
import { summariseProfile } from './profile-summary.mjs';

const target = process.argv[2] ?? 'verify-token';
await buildAll();
const profiles = join(root, 'bench', 'results', 'profiles');
mkdirSync(profiles, { recursive: true });
const file = join(profiles, `${target}.cpuprofile`);
const run = spawnSync(process.execPath, [join(outDir, 'profile', `${target}.mjs`)], {
  cwd: root,
  stdio: 'inherit',
  timeout: 300_000,
  env: { ...process.env, S2S_PROFILE_OUT: file },
});
if (run.status !== 0) process.exit(run.status ?? 1);
console.log(
  `\nself time, top functions (${join('bench', 'results', 'profiles', `${target}.cpuprofile`)}):`,
);
await summariseProfile(file, { top: 30 });
