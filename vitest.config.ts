import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The files with type-level assertions (`expectTypeOf`, `assertType`) also run as type tests:
    // `tsc` checks them and each failed assertion fails its test, counted in the JSON report.
    typecheck: {
      enabled: true,
      tsconfig: 'tsconfig.json',
      include: [
        'test/runtime/middleware/types.test.ts',
        'test/runtime/redis/redis-store.test.ts',
        'test/runtime/shared/memory-store.test.ts',
        'test/runtime/shared/validate.test.ts',
        'test/runtime/introspection/result-type.test.ts',
      ],
    },
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
