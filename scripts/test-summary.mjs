#!/usr/bin/env node
/**
 * Sums the JSON reports every vitest pass of `npm test` wrote into `.test-results/` and prints
 * one line, `N passed, N failed` (with `, N skipped` when any were), alone on its line. Test
 * files that could not be loaded count as failed, so a broken import is never hidden.
 * Exits 1 when anything failed or when no report was written at all.
 *
 *   node scripts/test-summary.mjs [--exit-code N]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = '.test-results';
const exitCodeFlag = process.argv.indexOf('--exit-code');
const upstream = exitCodeFlag === -1 ? 0 : Number(process.argv[exitCodeFlag + 1] ?? 1);

let files = [];
try {
  files = readdirSync(dir).filter((name) => name.endsWith('.json'));
} catch {
  // No pass got as far as running tests.
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const name of files) {
  const report = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A file that failed to load has no test results but still failed.
  for (const file of report.testResults ?? []) {
    // So did a file whose setup failed: its tests are reported as skipped, none as failed.
    const results = file.assertionResults ?? [];
    if (file.status === 'failed' && !results.some((test) => test.status === 'failed')) failed += 1;
  }
}

console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || upstream !== 0 || files.length === 0 ? 1 : 0);
