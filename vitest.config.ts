import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Each integration file starts its own IdP on 127.0.0.1; two cores, so two workers.
    maxWorkers: 2,
    // The JSON report feeds the one-line summary of `npm test` (scripts/test-summary.mjs).
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/main.json' },
  },
});
