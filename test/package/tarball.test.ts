/**
 * The package as npm ships it: `npm pack`, then a fresh project installs the tarball and uses
 * it from ESM, from CommonJS, from TypeScript under `node16` and
 * `bundler` resolution, and through its `s2s-auth` bin. Needs `npm run build` first.
 *
 * The install is offline and needs nothing from the npm cache: the package's dependencies are
 * packed from this checkout's node_modules and installed beside it (after `npm ci` the cache
 * holds their tarballs but not the registry documents a plain offline install would ask for).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
  version: string;
};

/** npm without the network, the audit or the funding notice. */
const npmEnv = {
  ...process.env,
  npm_config_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

interface PackedFile {
  path: string;
  size: number;
  mode: number;
}

/**
 * The folders of the package's dependencies and theirs, as installed here, and of the optional
 * peers the consumer uses (zod, for `s2s-auth/schemas`), as a user would add them: a dependency
 * nested under the package that needs it wins over one at the top of node_modules.
 */
async function dependencyFolders(peers: readonly string[]): Promise<string[]> {
  const folders = new Set<string>();
  const visit = async (from: string, extra: readonly string[] = []) => {
    const manifest = JSON.parse(await readFile(join(from, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const name of [...Object.keys(manifest.dependencies ?? {}), ...extra]) {
      const nested = join(from, 'node_modules', name);
      const folder = existsSync(nested) ? nested : join(root, 'node_modules', name);
      if (folders.has(folder)) continue;
      folders.add(folder);
      await visit(folder);
    }
  };
  await visit(root, peers);
  return [...folders];
}

let work: string;
let consumer: string;
let packed: PackedFile[];

async function inConsumer(file: string, args: string[] = []) {
  return run(process.execPath, [file, ...args], { cwd: consumer, env: npmEnv });
}

beforeAll(async () => {
  if (!existsSync(join(root, 'dist', 'index.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  work = await mkdtemp(join(tmpdir(), 's2s-auth-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: root,
    env: npmEnv,
  });
  const [result] = JSON.parse(stdout) as [{ filename: string; files: PackedFile[] }];
  packed = result.files;

  consumer = join(work, 'consumer');
  await mkdir(consumer);
  await writeFile(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
  );
  const dependencies = await run(
    'npm',
    ['pack', '--json', '--pack-destination', work, ...(await dependencyFolders(['zod']))],
    { cwd: root, env: npmEnv },
  );
  const tarballs = [result, ...(JSON.parse(dependencies.stdout) as { filename: string }[])].map(
    (packedPackage) => join(work, packedPackage.filename),
  );
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...tarballs], {
    cwd: consumer,
    env: npmEnv,
  });
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  const paths = () => packed.map((file) => file.path);

  it('ships the built entry points, their types, the CLI and the documents', () => {
    const expected = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/cli.js'];
    for (const entry of ['index', 'client', 'server', 'schemas', 'testing']) {
      expected.push(
        `dist/${entry}.js`,
        `dist/${entry}.cjs`,
        `dist/${entry}.d.ts`,
        `dist/${entry}.d.cts`,
      );
    }
    expect(paths()).toEqual(expect.arrayContaining(expected));
  });

  it('ships nothing outside dist/ but package.json, README, LICENSE and CHANGELOG', () => {
    const outside = paths().filter((path) => !path.startsWith('dist/'));
    expect(outside.sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
  });

  it('ships no sources, tests, fixtures, keys or tarballs', () => {
    for (const path of paths()) {
      expect(path).not.toMatch(/^(src|test|scripts|examples)\//);
      expect(path).not.toMatch(/(?<!\.d)\.c?ts$/);
      expect(path).not.toMatch(/\.(pem|key|jwk|p12|pfx|tgz|env)$|(^|\/)\.env/);
      expect(path).not.toMatch(/(^|\/)(fixtures?|__tests__)\//);
    }
  });

  it('ships source maps only next to the built files they describe, with the sources inlined', async () => {
    const maps = paths().filter((path) => path.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      expect(paths()).toContain(map.slice(0, -'.map'.length));
      const { sources, sourcesContent } = JSON.parse(
        await readFile(join(consumer, 'node_modules', 's2s-auth', map), 'utf8'),
      ) as {
        sources: string[];
        sourcesContent?: unknown[];
      };
      expect(sourcesContent?.length ?? 0, map).toBe(sources.length);
    }
  });

  it('marks the CLI executable', () => {
    const cli = packed.find((file) => file.path === 'dist/cli.js');
    expect((cli?.mode ?? 0) & 0o111).not.toBe(0);
  });
});

describe('a project that installs the tarball', () => {
  it('imports every entry point from ESM', async () => {
    await writeFile(
      join(consumer, 'esm.mjs'),
      `import * as all from 's2s-auth';
import { createAuthClient, AuthError } from 's2s-auth/client';
import { createResourceServer, introspectToken, TokenError } from 's2s-auth/server';
import { zTokenResponse } from 's2s-auth/schemas';
const auth = createAuthClient({ tokenEndpoint: 'https://idp.example.test/token', clientId: 'c', clientSecret: 's', dpop: true });
const proof = await auth.buildDpopProof({ htm: 'GET', htu: 'https://api.example.test/x' });
const server = createResourceServer({ issuer: 'https://idp.example.test', audience: 'https://api.example.test' });
const rejected = await server.verifyToken('not-a-jwt').catch((error) => error);
console.log(JSON.stringify({
  proofParts: proof.split('.').length,
  reason: rejected instanceof TokenError && rejected instanceof AuthError ? rejected.reason : null,
  sameClass: all.TokenError === TokenError,
  introspect: typeof introspectToken,
  schemas: zTokenResponse.safeParse({ access_token: 'a', token_type: 'Bearer' }).success,
}));
`,
    );
    const { stdout } = await inConsumer('esm.mjs');
    expect(JSON.parse(stdout)).toEqual({
      proofParts: 3,
      reason: 'malformed',
      sameClass: true,
      introspect: 'function',
      schemas: true,
    });
  });

  it('requires every entry point from CommonJS', async () => {
    await writeFile(
      join(consumer, 'cjs.cjs'),
      `const all = require('s2s-auth');
const { createAuthClient, AuthError } = require('s2s-auth/client');
const { createResourceServer, TokenError } = require('s2s-auth/server');
const { zTokenResponse } = require('s2s-auth/schemas');
(async () => {
  const auth = createAuthClient({ tokenEndpoint: 'https://idp.example.test/token', clientId: 'c', clientSecret: 's', dpop: true });
  const proof = await auth.buildDpopProof({ htm: 'POST', htu: 'https://idp.example.test/token' });
  const server = createResourceServer({ issuer: 'https://idp.example.test', audience: 'https://api.example.test' });
  const rejected = await server.verifyToken('a.b').catch((error) => error);
  console.log(JSON.stringify({
    proofParts: proof.split('.').length,
    reason: rejected instanceof TokenError && rejected instanceof AuthError ? rejected.reason : null,
    sameClass: all.TokenError === TokenError,
    version: require('s2s-auth/package.json').version,
    schemas: zTokenResponse.safeParse({ token_type: 'Bearer' }).success,
  }));
})();
`,
    );
    const { stdout } = await inConsumer('cjs.cjs');
    expect(JSON.parse(stdout)).toEqual({
      proofParts: 3,
      reason: 'malformed',
      sameClass: true,
      version,
      schemas: false,
    });
  });

  const typedConsumer = (
    from: string,
  ) => `import { createAuthClient, type AccessToken, type AuthClientOptions } from 's2s-auth/client';
import { createResourceServer, TokenError, type AccessTokenClaims, type IntrospectionResult } from 's2s-auth/server';
import * as all from 's2s-auth';

export async function main(): Promise<string | undefined> {
  const options: AuthClientOptions = { issuer: 'https://idp.example.test', clientId: 'c', clientSecret: 's', scope: ['a'] };
  const token: AccessToken = await createAuthClient(options).getToken({ resource: 'https://api.example.test' });
  const tokenType: 'Bearer' | 'DPoP' = token.token_type;
  const server = createResourceServer({ issuer: 'https://idp.example.test', audience: 'https://api.example.test' });
  try {
    const claims: AccessTokenClaims = await server.verifyToken(token.access_token, { requiredScopes: ['a'] });
    const result: IntrospectionResult = await all.introspectToken({ issuer: 'https://idp.example.test', clientId: 'c', clientSecret: 's', token: token.access_token });
    return result.active ? claims.client_id : tokenType;
  } catch (error) {
    if (error instanceof TokenError) return error.reason;
    throw error;
  }
}

// The types are real, not \`any\`: a wrong option is an error (${from}).
// @ts-expect-error clientAuth is one of three methods
createAuthClient({ issuer: 'https://idp.example.test', clientId: 'c', clientAuth: 'client_secret_jwt' });
// @ts-expect-error verifyToken takes a string
void createResourceServer({ issuer: 'https://idp.example.test', audience: 'https://api.example.test' }).verifyToken(42);
`;

  async function typeCheck(
    name: string,
    compilerOptions: Record<string, unknown>,
    files: Record<string, string>,
  ) {
    const dir = join(consumer, name);
    await mkdir(dir, { recursive: true });
    for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'es2022',
          lib: ['es2022', 'dom'],
          // No @types/node: the declarations must stand on the DOM and ES libraries alone.
          types: [],
          skipLibCheck: false,
          ...compilerOptions,
        },
        files: Object.keys(files),
      }),
    );
    return run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir }).catch(
      (error: unknown) => {
        const { stdout } = error as { stdout?: string };
        throw new Error(`tsc failed for ${name}:\n${stdout ?? (error as Error).toString()}`);
      },
    );
  }

  it('type-checks an ESM TypeScript consumer under moduleResolution node16', async () => {
    await typeCheck(
      'ts-node16-esm',
      { module: 'node16', moduleResolution: 'node16' },
      { 'consumer.mts': typedConsumer('ESM') },
    );
  }, 60_000);

  // The CommonJS build require()s jose, which is ESM only: Node 20.19+ (the engines floor) loads
  // it, and `module: node20` is how TypeScript models that. Under `module: node16` TypeScript
  // assumes require() cannot load ESM and flags the jose type import in our .d.cts, which only
  // shows with skipLibCheck off.
  it('type-checks a CommonJS TypeScript consumer under moduleResolution node16 (module node20)', async () => {
    await typeCheck(
      'ts-node16-cjs',
      { module: 'node20', moduleResolution: 'node16' },
      { 'consumer.cts': typedConsumer('CommonJS') },
    );
  }, 60_000);

  it('type-checks a CommonJS TypeScript consumer under module node16 with skipLibCheck', async () => {
    await typeCheck(
      'ts-node16-cjs-skiplibcheck',
      { module: 'node16', moduleResolution: 'node16', skipLibCheck: true },
      { 'consumer.cts': typedConsumer('CommonJS') },
    );
  }, 60_000);

  it('type-checks a TypeScript consumer under moduleResolution bundler', async () => {
    await typeCheck(
      'ts-bundler',
      { module: 'esnext', moduleResolution: 'bundler' },
      { 'consumer.ts': typedConsumer('bundler') },
    );
  }, 60_000);

  it('installs the s2s-auth command', async () => {
    const bin = join(consumer, 'node_modules', '.bin', 's2s-auth');
    const { stdout } = await run(bin, ['--version'], { cwd: consumer });
    expect(stdout.trim()).toBe(version);
    const proof = await run(
      bin,
      ['dpop-proof', '--htm', 'GET', '--htu', 'https://api.example.test/'],
      { cwd: consumer },
    );
    expect(proof.stdout.trim().split('.')).toHaveLength(3);
  });
});
