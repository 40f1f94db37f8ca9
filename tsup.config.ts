import { resolve } from 'node:path';
import { defineConfig, type Options } from 'tsup';

const dependencies = ['jose', 'zod', 'openapi-fetch'];
/** Optional peers: each is imported only by the entry point named after it. */
const peers = ['ioredis', 'hono', 'express', 'fastify', '@opentelemetry/api'];

/** The library entry points: `s2s-auth`, `s2s-auth/client`, `s2s-auth/server` and the adapters. */
const entryPoints = {
  index: 'src/index.ts',
  client: 'src/client.ts',
  server: 'src/server.ts',
  redis: 'src/redis.ts',
  hono: 'src/hono.ts',
  express: 'src/express.ts',
  fastify: 'src/fastify.ts',
  otel: 'src/otel.ts',
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

export default defineConfig([
  {
    entry: entryPoints,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // Both configs build at once into dist/: this one empties it, except for the CLI's files.
    clean: ['!cli.js', '!cli.js.map'],
    // Shared chunks keep `s2s-auth/server` free of client code and the other way round.
    splitting: true,
    treeshake: true,
    target: 'es2022',
    // The library runs on any runtime with WebCrypto and fetch: no `node:` imports.
    platform: 'neutral',
    external: [...dependencies, ...peers],
  },
  {
    // The `s2s-auth` command: Node only, ESM only, not a library entry point.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    splitting: false,
    treeshake: true,
    target: 'node20',
    platform: 'node',
    external: dependencies,
    banner: { js: '#!/usr/bin/env node' },
    esbuildPlugins: [importLibraryFromDist],
  },
]);
