/**
 * The TypeScript in the guides is code people paste: it must compile against the real public
 * API. Each ```ts block becomes a module, type-checked with `tsc` against `src/` under the
 * package's own import names. Names a snippet takes from an earlier one (`auth`, `server`,
 * `token`, …) are declared once, globally, with their real types.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

const context = `
declare const auth: import('s2s-auth/client').AuthClient;
declare const createAuthClient: typeof import('s2s-auth/client').createAuthClient;
declare const server: import('s2s-auth/server').ResourceServer;
declare const resourceServer: import('s2s-auth/server').ResourceServer;
declare const idp: import('s2s-auth/testing').TestIssuer;
declare const result: import('s2s-auth/server').IntrospectionResult;
declare const request: Request;
declare const token: string;
declare const leakedToken: string;
declare const log: { error(...args: unknown[]): void; warn(...args: unknown[]): void };
declare const metrics: { histogram(name: string, value: number): void };
// The shape of the ioredis call the DPoP guide makes, so no Redis client is needed here.
declare module 'ioredis' {
  export class Redis {
    constructor(url: string);
    set(key: string, value: string, mode: 'EX', seconds: number, condition: 'NX'): Promise<'OK' | null>;
  }
}
`;

describe('the code in the guides', () => {
  let directory: string | undefined;

  afterAll(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('type-checks against the public API', async () => {
    directory = await mkdtemp(join(tmpdir(), 's2s-auth-snippets-'));
    const guides = join(root, 'docs', 'guides');
    const snippets: string[] = [];
    for (const name of (await readdir(guides)).filter((file) => file.endsWith('.md')).sort()) {
      const text = await readFile(join(guides, name), 'utf8');
      let index = 0;
      for (const [, code] of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
        const file = `${name.replace(/\.md$/, '')}-${++index}.ts`;
        await writeFile(join(directory, file), `${code}\nexport {};\n`);
        snippets.push(file);
      }
    }
    expect(snippets.length).toBeGreaterThan(10);

    await writeFile(join(directory, 'context.d.ts'), context);
    // Snippets import frameworks (`hono`) as an application would: from its node_modules.
    await symlink(join(root, 'node_modules'), join(directory, 'node_modules'), 'dir');
    await writeFile(join(directory, 'package.json'), '{ "type": "module" }\n');
    await writeFile(
      join(directory, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
          paths: {
            's2s-auth': [join(root, 'src', 'index.ts')],
            's2s-auth/client': [join(root, 'src', 'client.ts')],
            's2s-auth/server': [join(root, 'src', 'server.ts')],
            's2s-auth/testing': [join(root, 'src', 'testing.ts')],
            's2s-auth/hono': [join(root, 'src', 'hono.ts')],
            's2s-auth/express': [join(root, 'src', 'express.ts')],
            's2s-auth/fastify': [join(root, 'src', 'fastify.ts')],
          },
        },
        include: ['*.ts'],
      }),
    );

    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const output = await run(process.execPath, [tsc, '-p', directory], { cwd: root }).then(
      () => '',
      (error: unknown) => {
        const { stdout, stderr } = error as { stdout?: string; stderr?: string };
        return `${stdout ?? ''}${stderr ?? ''}`;
      },
    );
    // Errors name the snippet file: `<guide>-<n>.ts(line,col): error TS…`.
    expect(output.trim()).toBe('');
  }, 30_000);
});
