/**
 * The size budget: `scripts/size.mjs` bundles a client-credentials token fetch and a JWT
 * verification against a remote JWKS with s2s-auth and with its peers (openid-client,
 * oauth4webapi, aws-jwt-verify); ours must stay within `size-budget.json`.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

interface Size {
  minified: number;
  gzip: number;
}
interface JobReport {
  ours: string;
  budget: number | undefined;
  withinBudget: boolean;
  smallestPeer: number;
  sizes: Record<string, Size>;
}
interface BudgetFile {
  jobs: Record<
    string,
    { budget: number; ours: string; measured: Record<string, Size & { version: string }> }
  >;
}

let report: Record<string, JobReport>;
const budgets = JSON.parse(readFileSync(join(root, 'size-budget.json'), 'utf8')) as BudgetFile;

beforeAll(async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(root, 'scripts', 'size.mjs'), '--json'],
    {
      cwd: root,
    },
  ).catch((error: unknown) => ({ stdout: (error as { stdout?: string }).stdout ?? '' }));
  report = JSON.parse(stdout) as Record<string, JobReport>;
}, 60_000);

describe('size budget', () => {
  it('measures both jobs, each against at least two peers', () => {
    expect(Object.keys(report).sort()).toEqual(Object.keys(budgets.jobs).sort());
    for (const job of Object.values(report))
      expect(Object.keys(job.sizes).length).toBeGreaterThanOrEqual(3);
  });

  it.each(Object.keys(budgets.jobs))('keeps %s within its budget', (name) => {
    const job = report[name]!;
    expect(job.sizes[job.ours]!.minified).toBeLessThanOrEqual(budgets.jobs[name]!.budget);
    expect(job.withinBudget).toBe(true);
  });

  it('records the peers as they measure now (run `npm run size:update` after upgrading one)', () => {
    for (const [name, job] of Object.entries(report)) {
      for (const [candidate, size] of Object.entries(job.sizes)) {
        if (candidate === job.ours) continue;
        expect({ name, candidate, ...budgets.jobs[name]!.measured[candidate] }).toMatchObject({
          name,
          candidate,
          ...size,
        });
      }
    }
  });
});
