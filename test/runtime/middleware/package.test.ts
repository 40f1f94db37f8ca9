/**
 * The middleware entry points as built: they load through the `exports` map from ESM and
 * CommonJS, import nothing from `node:` and of their framework only Hono's `HTTPException` at
 * run time, and their declarations give a TypeScript project typed claims through each
 * framework's own extension point. Runs against dist/, so `npm run build` must come first.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');
const dist = join(root, 'dist');
const entries = ['hono', 'express', 'fastify'] as const;

beforeAll(() => {
  if (!existsSync(join(dist, 'hono.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
});

/** Every module an entry loads from dist/, itself included. */
function closure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(dist, file), 'utf8');
  for (const match of text.matchAll(/(?:from\s*|import\s*|require\(\s*)["']\.\/([^"']+)["']/g)) {
    closure(match[1]!, seen);
  }
  return seen;
}

function bareImports(file: string): string[] {
  const text = readFileSync(join(dist, file), 'utf8');
  return [...text.matchAll(/(?:from\s*|import\s*|require\(\s*)["']([^./"'][^"']*)["']/g)].map(
    (match) => match[1]!,
  );
}

describe('built middleware entry points', () => {
  /** What each entry may import from its framework at run time. */
  const frameworkImports: Record<(typeof entries)[number], string[]> = {
    // The class a Hono app's `onError` recognises: it must be the app's own copy.
    hono: ['hono/http-exception'],
    express: [],
    fastify: [],
  };

  it.each(entries)(
    '%s imports nothing of its framework but what it names, and nothing from node:, at run time',
    (entry) => {
      for (const extension of ['js', 'cjs']) {
        const imported = [...closure(`${entry}.${extension}`)].flatMap(bareImports);
        const forbidden = imported.filter(
          (name) =>
            (/^(?:hono|express|fastify|@hono\/|node:)/.test(name) &&
              !frameworkImports[entry].includes(name)) ||
            builtinModules.includes(name.split('/')[0]!),
        );
        expect(forbidden, `${entry}.${extension}`).toEqual([]);
        expect(
          [...new Set(imported.filter((name) => frameworkImports[entry].includes(name)))],
          `${entry}.${extension}`,
        ).toEqual(frameworkImports[entry]);
      }
    },
  );

  it.each(entries)('%s loads from ESM and from require() with its contract name', async (entry) => {
    const esm = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import * as m from 's2s-auth/${entry}'; console.log(Object.keys(m).join())`,
      ],
      { cwd: root },
    );
    const cjs = await run(
      process.execPath,
      ['-e', `console.log(Object.keys(require('s2s-auth/${entry}')).join())`],
      { cwd: root },
    );
    for (const { stdout } of [esm, cjs]) {
      expect(stdout.trim().split(',')).toEqual(
        expect.arrayContaining(['requireServiceAuth', 'TokenError', 'AuthError']),
      );
    }
  });

  it('shares TokenError with s2s-auth/server, so rejections are recognised across entry points', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import * as s from 's2s-auth/server'; import * as h from 's2s-auth/hono'; import * as e from 's2s-auth/express'; import * as f from 's2s-auth/fastify';
         console.log(s.TokenError === h.TokenError && h.TokenError === e.TokenError && e.TokenError === f.TokenError)`,
      ],
      { cwd: root },
    );
    expect(stdout.trim()).toBe('true');
  });
});

describe('built middleware declarations in a TypeScript project', () => {
  let project: string;

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 's2s-auth-middleware-types-'));
    // The project sees this repository's packages, and s2s-auth itself through its exports map.
    const modules = join(project, 'node_modules');
    await mkdir(join(modules, '@types'), { recursive: true });
    for (const name of readdirSync(join(root, 'node_modules'))) {
      if (name === '@types' || name.startsWith('.')) continue;
      await symlink(join(root, 'node_modules', name), join(modules, name), 'dir');
    }
    for (const name of readdirSync(join(root, 'node_modules', '@types'))) {
      await symlink(
        join(root, 'node_modules', '@types', name),
        join(modules, '@types', name),
        'dir',
      );
    }
    await symlink(root, join(modules, 's2s-auth'), 'dir');
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    // One project per module system: in one program the two copies of a global augmentation
    // would merge, and a wrong one could hide behind the right one.
    for (const [name, include] of [
      ['tsconfig.esm.json', '*.mts'],
      ['tsconfig.cjs.json', '*.cts'],
    ] as const) {
      await writeFile(
        join(project, name),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: ['node'],
          },
          include: [include],
        }),
      );
    }
    const claimsChecks = (value: string) => `
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const exact: Equal<typeof ${value}, AccessTokenClaims | undefined> = true;
const clientId: string | undefined = ${value}?.client_id;
const jkt: string | undefined = ${value}?.cnf?.jkt;
// @ts-expect-error the claims are an object
const wrong: string = ${value};
export { exact, clientId, jkt, wrong };`;
    const files: Record<string, string> = {
      'express.mts': `
import type { Request, RequestHandler } from 'express';
import { requireServiceAuth, type AccessTokenClaims } from 's2s-auth/express';
import { createResourceServer } from 's2s-auth/server';
const handler: RequestHandler = requireServiceAuth({ resourceServer: createResourceServer({ issuer: 'https://idp.example.com', audience: 'https://orders.example.com' }) });
declare const req: Request;
${claimsChecks('req.auth')}
export { handler };`,
      'express.cts': `
import type { Request } from 'express';
import type { AccessTokenClaims } from 's2s-auth/express';
declare const req: Request;
${claimsChecks('req.auth')}`,
      'fastify.mts': `
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { requireServiceAuth, type AccessTokenClaims } from 's2s-auth/fastify';
import { createResourceServer } from 's2s-auth/server';
const hook: preHandlerAsyncHookHandler = requireServiceAuth({ resourceServer: createResourceServer({ issuer: 'https://idp.example.com', audience: 'https://orders.example.com' }) });
declare const request: FastifyRequest;
${claimsChecks('request.auth')}
export { hook };`,
      'fastify.cts': `
import type { FastifyRequest } from 'fastify';
import type { AccessTokenClaims } from 's2s-auth/fastify';
declare const request: FastifyRequest;
${claimsChecks('request.auth')}`,
      'hono.mts': `
import { Hono } from 'hono';
import { requireServiceAuth, type AccessTokenClaims, type ServiceAuthEnv } from 's2s-auth/hono';
import { createResourceServer } from 's2s-auth/server';
const app = new Hono<ServiceAuthEnv>();
app.use(requireServiceAuth({ resourceServer: createResourceServer({ issuer: 'https://idp.example.com', audience: 'https://orders.example.com' }) }));
app.get('/', (c) => {
  const claims: AccessTokenClaims = c.get('auth');
  // @ts-expect-error the claims are an object
  const wrong: string = c.get('auth');
  return c.json({ claims, wrong });
});`,
      'hono.cts': `
import type { Context } from 'hono';
import type { AccessTokenClaims, ServiceAuthEnv } from 's2s-auth/hono';
declare const c: Context<ServiceAuthEnv>;
const claims: AccessTokenClaims = c.get('auth');
export { claims };`,
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(project, name), text);
  }, 60_000);

  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it.each(['esm', 'cjs'])(
    'types req.auth, request.auth and c.get("auth") as the claims (%s)',
    async (system) => {
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const config = join(project, `tsconfig.${system}.json`);
      const result = await run(process.execPath, [tsc, '-p', config], { cwd: project }).then(
        () => '',
        (error: unknown) => (error as { stdout?: string }).stdout ?? String(error as Error),
      );
      expect(result).toBe('');
    },
    60_000,
  );
});
