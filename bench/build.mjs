// Bundles what the benchmarks run, with esbuild, into node_modules/.cache/s2s-auth-bench/:
//
//   lib/web.mjs    the library as the default build has it (WebCrypto backend)
//   lib/node.mjs   the library as the `node` export condition's build has it: the same source
//                  with src/runtime/crypto/backend.ts swapped for backend-node.ts
//   suites/*.mjs   each bench/suites/*.ts
//   profile/*.mjs  each bench/profile/*.ts (profiling targets, run by bench/profile.mjs)
//
// Dependencies (jose, zod, the peers) stay external and load from node_modules, as they would
// for a user. The output lives under node_modules/ so that resolution works and git ignores it.
//
//   node bench/build.mjs
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const outDir = join(root, 'node_modules', '.cache', 's2s-auth-bench');

const webBackend = join(root, 'src', 'runtime', 'crypto', 'backend.ts');
const nodeBackend = join(root, 'src', 'runtime', 'crypto', 'backend-node.ts');

/**
 * The swap the Node build makes: every import of `…/crypto/backend.js` from the library source
 * resolves to the `node:crypto` backend. The same plugin shape suits tsup's `esbuildPlugins`.
 */
export const nodeCryptoBackend = {
  name: 's2s-auth:node-crypto-backend',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /(^|\/)backend\.js$/ }, (args) => {
      const target = resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      return target === webBackend ? { path: nodeBackend } : undefined;
    });
  },
};

const common = {
  bundle: true,
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
};

export async function buildAll() {
  await Promise.all([
    build({
      ...common,
      // As tsup builds the default entry points: nothing from `node:` may get in.
      platform: 'neutral',
      entryPoints: [join(root, 'src', 'index.ts')],
      outfile: join(outDir, 'lib', 'web.mjs'),
    }),
    build({
      ...common,
      platform: 'node',
      entryPoints: [join(root, 'src', 'index.ts')],
      outfile: join(outDir, 'lib', 'node.mjs'),
      plugins: [nodeCryptoBackend],
    }),
    ...['suites', 'profile'].map(async (folder) =>
      build({
        ...common,
        platform: 'node',
        entryPoints: (await readdir(join(root, 'bench', folder)))
          .filter((file) => file.endsWith('.ts'))
          .map((file) => join(root, 'bench', folder, file)),
        outdir: join(outDir, folder),
        outExtension: { '.js': '.mjs' },
      }),
    ),
  ]);
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildAll();
  console.log(`built into ${outDir}`);
}
