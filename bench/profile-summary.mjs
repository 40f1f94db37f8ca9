// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, heaviest first.
//
//   node bench/profile-summary.mjs bench/results/profiles/verify-distinct.cpuprofile [--top 30]
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** Self time by function (name + file:line), as shares of the sampled time. */
export async function summariseProfile(file, { top = 25, print = true } = {}) {
  const profile = JSON.parse(await readFile(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfSamples = new Map();
  for (const id of profile.samples) selfSamples.set(id, (selfSamples.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const byFunction = new Map();
  for (const [id, count] of selfSamples) {
    const { callFrame } = byId.get(id);
    const url = callFrame.url
      .replace(/^.*\/node_modules\//, '')
      .replace(/^file:\/\/.*\/(node_modules\/\.cache\/s2s-auth-bench\/)/, '');
    const where = url ? `${url.split('/').slice(-2).join('/')}:${callFrame.lineNumber + 1}` : '';
    const key = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
  }
  const rows = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top);
  if (print) {
    for (const [name, count] of rows) {
      console.log(`${((count / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
    }
  }
  return rows.map(([name, count]) => ({ name, share: count / total }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  const topIndex = process.argv.indexOf('--top');
  if (!file) {
    console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top N]');
    process.exit(2);
  }
  await summariseProfile(file, { top: topIndex > 0 ? Number(process.argv[topIndex + 1]) : 30 });
}
