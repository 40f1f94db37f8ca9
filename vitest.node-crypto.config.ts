/**
 * The same unit, fuzz and integration tests, run against the `node:crypto` backend: the build
 * that the `node` export condition picks swaps `src/runtime/crypto/backend.ts` for
 * `backend-node.ts`, and so does this config, for every import made from `src/`. Both backends
 * must pass the same tests.
 *
 *   npx vitest run --config vitest.node-crypto.config.ts
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig, type Plugin } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));
const source = resolve(root, 'src');
const webBackend = resolve(source, 'runtime/crypto/backend.ts');
const nodeBackend = resolve(source, 'runtime/crypto/backend-node.ts');

/** Resolves `…/crypto/backend.js`, imported from anywhere in `src/`, to the Node backend. */
const nodeCryptoBackend: Plugin = {
  name: 's2s-auth:node-crypto-backend',
  enforce: 'pre',
  resolveId(id, importer) {
    if (importer === undefined || !id.endsWith('backend.js')) return null;
    if (!resolve(importer).startsWith(source)) return null;
    const target = resolve(dirname(importer), id).replace(/\.js$/, '.ts');
    return target === webBackend ? nodeBackend : null;
  },
};

export default defineConfig({
  plugins: [nodeCryptoBackend],
  test: {
    include: [
      'test/runtime/**/*.test.ts',
      'test/fuzz/**/*.test.ts',
      'test/integration/**/*.test.ts',
    ],
    // The middleware, Redis and OpenTelemetry tests sit under test/runtime/ beside their
    // sources but stay out of this pass, as before: the Redis and package tests run against
    // dist/, and the middleware hands each request to the resource server this pass covers.
    exclude: [
      ...configDefaults.exclude,
      'test/runtime/middleware/**',
      'test/runtime/redis/**',
      'test/runtime/observability/**',
    ],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    maxWorkers: 2,
    // The JSON report feeds the one-line summary of `npm test` (scripts/test-summary.mjs).
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/node-crypto.json' },
    // Lets a test tell which backend it is meant to run against.
    env: { S2S_AUTH_CRYPTO_BACKEND: 'node' },
  },
});
