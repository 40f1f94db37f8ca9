/**
 * Importing one side of the SDK must not pull in the other: a resource server that imports
 * `s2s-auth/server` ships no token-client code, and a client that imports `s2s-auth/client`
 * ships no verification code. Checked the way a bundler sees it: esbuild bundles a one-line
 * consumer and its metafile says which files went in; the built chunks' source maps say
 * which source modules each file holds.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dependencies = ['jose', 'zod', 'openapi-fetch'];

const sides = {
  server: {
    consumer: `import { createResourceServer } from 's2s-auth/server'; export default createResourceServer;`,
    required: `const { createResourceServer } = require('s2s-auth/server'); module.exports = createResourceServer;`,
    mustHave: 'src/runtime/server/resource-server.ts',
    forbidden: /^src\/runtime\/client\//,
  },
  client: {
    consumer: `import { createAuthClient } from 's2s-auth/client'; export default createAuthClient;`,
    required: `const { createAuthClient } = require('s2s-auth/client'); module.exports = createAuthClient;`,
    mustHave: 'src/runtime/client/auth-client.ts',
    forbidden: /^src\/runtime\/(server|introspection)\//,
  },
} as const;

async function bundle(contents: string, options: { plugins?: Plugin[]; format: 'esm' | 'cjs' }) {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    write: false,
    metafile: true,
    format: options.format,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    external: dependencies,
    plugins: options.plugins ?? [],
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  return { metafile: result.metafile, code: output?.text ?? '' };
}

/** The source modules behind built files, through their source maps. */
function sourceModules(inputs: Metafile | readonly string[]): string[] {
  const files: readonly string[] = Array.isArray(inputs)
    ? inputs
    : Object.keys((inputs as Metafile).inputs);
  const modules = new Set<string>();
  for (const input of files) {
    if (!input.startsWith('dist/')) continue;
    const map = JSON.parse(readFileSync(join(root, `${input}.map`), 'utf8')) as {
      sources: string[];
    };
    for (const source of map.sources)
      modules.add(resolve(root, 'dist', source).slice(root.length + 1));
  }
  return [...modules].sort();
}

/** Resolves `s2s-auth/<entry>` to the TypeScript source of that entry point. */
const fromSource: Plugin = {
  name: 'entry-points-from-source',
  setup(builder) {
    builder.onResolve({ filter: /^s2s-auth(\/(client|server))?$/ }, ({ path }) => ({
      path: join(
        root,
        'src',
        `${path === 's2s-auth' ? 'index' : path.slice('s2s-auth/'.length)}.ts`,
      ),
    }));
  },
};

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'server.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
});

describe.each(Object.entries(sides))(
  'importing only s2s-auth/%s',
  (side, { consumer, required, mustHave, forbidden }) => {
    it('bundles no module of the other side from the built ESM files', async () => {
      const { metafile } = await bundle(consumer, { format: 'esm' });
      expect(Object.keys(metafile.inputs)).toContain(`dist/${side}.js`);
      const modules = sourceModules(metafile);
      expect(modules).toContain(mustHave);
      expect(modules.filter((module) => forbidden.test(module))).toEqual([]);
    });

    it('bundles no module of the other side from the built CommonJS files', async () => {
      const { metafile } = await bundle(required, { format: 'cjs' });
      expect(Object.keys(metafile.inputs)).toContain(`dist/${side}.cjs`);
      const modules = sourceModules(metafile);
      expect(modules).toContain(mustHave);
      expect(modules.filter((module) => forbidden.test(module))).toEqual([]);
    });

    it('reaches no module of the other side in the source module graph', async () => {
      const { metafile } = await bundle(consumer, { format: 'esm', plugins: [fromSource] });
      const modules = Object.keys(metafile.inputs).filter((input) => input.startsWith('src/'));
      expect(modules).toContain(mustHave);
      expect(modules.filter((module) => forbidden.test(module))).toEqual([]);
    });
  },
);

describe('zod', () => {
  const entries = [
    's2s-auth',
    'client',
    'server',
    'redis',
    'hono',
    'express',
    'fastify',
    'otel',
    'testing',
  ];

  it.each(entries)('is not imported by %s, built as ESM or CommonJS', async (entry) => {
    const specifier = entry === 's2s-auth' ? entry : `s2s-auth/${entry}`;
    for (const [format, contents] of [
      ['esm', `export * from '${specifier}';`],
      ['cjs', `module.exports = require('${specifier}');`],
    ] as const) {
      const { metafile } = await bundle(contents, { format });
      const imported = Object.values(metafile.inputs).flatMap((input) =>
        input.imports.map(({ path }) => path),
      );
      expect(imported, `${specifier} (${format})`).not.toContain('zod');
    }
  });

  it('is imported by s2s-auth/schemas, which re-exports the generated zod schemas', async () => {
    const { metafile } = await bundle(`export * from 's2s-auth/schemas';`, { format: 'esm' });
    const imported = Object.values(metafile.inputs).flatMap((input) =>
      input.imports.map(({ path }) => path),
    );
    expect(imported).toContain('zod');
  });
});

describe('importing one function from the root entry point s2s-auth (sideEffects: false)', () => {
  it.each([
    ['createResourceServer', sides.server],
    ['createAuthClient', sides.client],
  ] as const)('bundles only one side for %s', async (name, { mustHave, forbidden }) => {
    const { metafile } = await bundle(
      `import { ${name} } from 's2s-auth'; export default ${name};`,
      { format: 'esm' },
    );
    const [output] = Object.values(metafile.outputs);
    const used = Object.entries(output?.inputs ?? {})
      .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
      .map(([input]) => input);
    const modules = sourceModules(used);
    expect(modules).toContain(mustHave);
    expect(modules.filter((module) => forbidden.test(module))).toEqual([]);
  });
});
