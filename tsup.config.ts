import { resolve } from 'node:path';
import { defineConfig, type Options } from 'tsup';

const dependencies = ['jose', 'openapi-fetch'];
/**
 * Optional peers: each is imported only by the entry point that needs it (zod by
 * `s2s-auth/schemas`, the others by the adapter named after them).
 */
const peers = ['ioredis', 'hono', 'express', 'fastify', '@opentelemetry/api', 'zod'];

/**
 * The library entry points: `s2s-auth`, `s2s-auth/client`, `s2s-auth/server`, the adapters and
 * `s2s-auth/schemas`.
 */
const entryPoints = {
  index: 'src/index.ts',
  client: 'src/client.ts',
  server: 'src/server.ts',
  redis: 'src/redis.ts',
  hono: 'src/hono.ts',
  express: 'src/express.ts',
  fastify: 'src/fastify.ts',
  otel: 'src/otel.ts',
  schemas: 'src/schemas.ts',
  testing: 'src/testing.ts',
} as const;

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * The CLI imports the library through its public entry points. This keeps those imports as
 * imports of the built files beside it (`./client.js`), so `dist/cli.js` holds only the CLI and
 * shares the library code with every other importer instead of carrying a second copy.
 */
const importLibraryFromDist: EsbuildPlugin = {
  name: 'import-library-from-dist',
  setup(build) {
    const entries = new Map(
      Object.entries(entryPoints).map(([name, file]) => [
        resolve(file).replace(/\.ts$/, '.js'),
        `./${name}.js`,
      ]),
    );
    build.onResolve({ filter: /^\./ }, (args) => {
      const target = entries.get(resolve(args.resolveDir, args.path));
      return target === undefined ? undefined : { path: target, external: true };
    });
  },
};

/**
 * The build the `node` export condition picks (dist/node/): the same entry points and the same
 * code, except that `src/runtime/crypto/backend.ts` (WebCrypto) is swapped for
 * `backend-node.ts` (`node:crypto`: synchronous signatures and hashes). Types are shared with
 * the default build.
 */
const nodeCryptoBackend: EsbuildPlugin = {
  name: 'node-crypto-backend',
  setup(build) {
    const webBackend = resolve('src/runtime/crypto/backend.ts');
    const nodeBackend = resolve('src/runtime/crypto/backend-node.ts');
    build.onResolve({ filter: /(^|\/)backend\.js$/ }, (args) =>
      resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts') === webBackend
        ? { path: nodeBackend }
        : undefined,
    );
  },
};

export default defineConfig([
  {
    entry: entryPoints,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // The configs build at once into dist/: this one empties it, except for the CLI's files and
    // the Node build.
    clean: ['!cli.js', '!cli.js.map', '!dev-idp.js', '!dev-idp.js.map', '!node', '!node/**'],
    // Shared chunks keep `s2s-auth/server` free of client code and the other way round.
    splitting: true,
    treeshake: true,
    target: 'es2022',
    // The library runs on any runtime with WebCrypto and fetch: no `node:` imports.
    platform: 'neutral',
    external: [...dependencies, ...peers],
  },
  {
    // The same library for the `node` export condition, on `node:crypto` (see nodeCryptoBackend).
    entry: entryPoints,
    outDir: 'dist/node',
    format: ['esm', 'cjs'],
    dts: false,
    sourcemap: true,
    // Empties dist/node/ (which the first config leaves alone), so no stale chunk is packed.
    clean: true,
    splitting: true,
    treeshake: true,
    target: 'node20',
    platform: 'node',
    external: [...dependencies, ...peers],
    // Keep `node:` on built-in imports: Deno and Bun, which also match `node`, want it.
    removeNodeProtocol: false,
    esbuildPlugins: [nodeCryptoBackend],
  },
  {
    // The `s2s-auth` command: Node only, ESM only, not a library entry point. Its dev IdP is
    // also built on its own, for the demo in examples/.
    entry: { cli: 'src/cli/main.ts', 'dev-idp': 'src/cli/dev-idp.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    splitting: false,
    treeshake: true,
    target: 'node20',
    platform: 'node',
    // oidc-provider, an optional peer, is loaded only by `s2s-auth dev-idp`.
    external: [...dependencies, 'oidc-provider'],
    banner: { js: '#!/usr/bin/env node' },
    esbuildPlugins: [importLibraryFromDist],
  },
]);
