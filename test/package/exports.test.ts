/**
 * The built package as a user gets it: through its `exports` map, from ESM and from CommonJS.
 * Runs against dist/, so `npm run build` must come first (`npm test` does that).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const dist = join(root, 'dist');

const contract = {
  's2s-auth': [
    'createAuthClient',
    'createDpopKey',
    'createResourceServer',
    'introspectToken',
    'AuthError',
    'OAuthError',
    'NetworkError',
    'ProtocolError',
    'TokenError',
  ],
  's2s-auth/client': [
    'createAuthClient',
    'createDpopKey',
    'AuthError',
    'OAuthError',
    'NetworkError',
    'ProtocolError',
    'TokenError',
  ],
  's2s-auth/server': [
    'createResourceServer',
    'introspectToken',
    'AuthError',
    'OAuthError',
    'NetworkError',
    'ProtocolError',
    'TokenError',
  ],
  's2s-auth/testing': ['createTestIssuer', 'createDpopKey'],
  's2s-auth/schemas': [
    'zAuthorizationServerMetadata',
    'zOpenIdProviderMetadata',
    'zTokenResponse',
    'zOAuthErrorResponse',
    'zJsonWebKeySet',
    'zIntrospectionResponse',
  ],
} as const;

async function node(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, args, { cwd: root });
  return stdout;
}

beforeAll(() => {
  if (!existsSync(join(dist, 'index.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
});

describe('package exports', () => {
  it.each(Object.entries(contract))(
    '%s exports the contract names to ESM importers',
    async (specifier, names) => {
      const out = await node([
        '--input-type=module',
        '-e',
        `import * as m from '${specifier}'; console.log(JSON.stringify(Object.keys(m)))`,
      ]);
      expect(JSON.parse(out)).toEqual(expect.arrayContaining([...names]));
    },
  );

  it.each(Object.entries(contract))(
    '%s exports the contract names to require()',
    async (specifier, names) => {
      const out = await node([
        '-e',
        `console.log(JSON.stringify(Object.keys(require('${specifier}'))))`,
      ]);
      expect(JSON.parse(out)).toEqual(expect.arrayContaining([...names]));
    },
  );

  it('shares one AuthError class between the entry points, so instanceof works across them', async () => {
    const out = await node([
      '--input-type=module',
      '-e',
      `import * as all from 's2s-auth'; import * as client from 's2s-auth/client'; import * as server from 's2s-auth/server';
       console.log(all.AuthError === client.AuthError && client.AuthError === server.AuthError && all.TokenError === server.TokenError)`,
    ]);
    expect(out.trim()).toBe('true');
  });

  it('ships type declarations for both module systems', () => {
    for (const entry of ['index', 'client', 'server', 'schemas', 'testing']) {
      expect(existsSync(join(dist, `${entry}.d.ts`))).toBe(true);
      expect(existsSync(join(dist, `${entry}.d.cts`))).toBe(true);
    }
  });

  it('mints a token with s2s-auth/testing that s2s-auth/server verifies, from ESM and from require()', async () => {
    const program = (load: string) => `${load}
       (async () => {
         const idp = await createTestIssuer({ audience: 'https://api.test' });
         const server = createResourceServer({ issuer: idp.issuer, audience: 'https://api.test', fetch: idp.fetch });
         const claims = await server.verifyToken(await idp.mintAccessToken({ scope: 'a' }));
         console.log(claims.scope);
       })();`;
    const esm = await node([
      '--input-type=module',
      '-e',
      program(
        `import { createTestIssuer } from 's2s-auth/testing'; import { createResourceServer } from 's2s-auth/server';`,
      ),
    ]);
    const cjs = await node([
      '-e',
      program(
        `const { createTestIssuer } = require('s2s-auth/testing'); const { createResourceServer } = require('s2s-auth/server');`,
      ),
    ]);
    expect([esm.trim(), cjs.trim()]).toEqual(['a', 'a']);
  });

  it('validates an IdP document with the zod schemas of s2s-auth/schemas', async () => {
    const out = await node([
      '--input-type=module',
      '-e',
      `import { zTokenResponse } from 's2s-auth/schemas';
       const good = zTokenResponse.safeParse({ access_token: 'a', token_type: 'Bearer', cnf: { jkt: 'x' } });
       const bad = zTokenResponse.safeParse({ token_type: 'Bearer' });
       console.log(JSON.stringify([good.success, good.data?.cnf, bad.success]))`,
    ]);
    expect(JSON.parse(out)).toEqual([true, { jkt: 'x' }, false]);
  });

  it('imports no Node.js built-in in the library build (WebCrypto and fetch only)', () => {
    const library = readdirSync(dist).filter(
      (file) => /\.c?js$/.test(file) && !file.startsWith('cli.') && !file.startsWith('dev-idp.'),
    );
    expect(library.length).toBeGreaterThan(0);
    // Bare names too: a bundler may strip the `node:` prefix.
    const builtin = new RegExp(
      `(?:from\\s*|import\\s*|require\\(\\s*)["'](?:node:[\\w/]+|${builtinModules.map((name) => name.replace(/[/]/g, '\\/')).join('|')})["']`,
    );
    for (const file of library) {
      expect(readFileSync(join(dist, file), 'utf8'), file).not.toMatch(builtin);
    }
  });

  it('keeps the CLI and its dev IdP out of the library: no entry point or chunk imports them', () => {
    for (const file of readdirSync(dist).filter(
      (name) => /\.c?js$/.test(name) && !name.startsWith('cli.') && !name.startsWith('dev-idp.'),
    )) {
      expect(readFileSync(join(dist, file), 'utf8'), file).not.toMatch(
        /["']\.\/(?:cli|dev-idp)\.js["']/,
      );
    }
  });

  it('builds the CLI as an executable that imports the library instead of carrying a copy', () => {
    const cli = readFileSync(join(dist, 'cli.js'), 'utf8');
    expect(cli.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(join(dist, 'cli.js')).mode & 0o111).not.toBe(0);
    expect(cli).toMatch(/from ["']\.\/client\.js["']/);
    expect(cli).toMatch(/from ["']\.\/server\.js["']/);
    const { sources } = JSON.parse(readFileSync(join(dist, 'cli.js.map'), 'utf8')) as {
      sources: string[];
    };
    expect(sources.length).toBeGreaterThan(0);
    // The one piece it carries a copy of is `closestKey`, the "did you mean" matcher: plain
    // string work with no state and no class whose identity matters, which no entry point exports.
    const copied = ['../src/runtime/shared/options.ts'];
    expect(
      sources.filter((source) => !source.startsWith('../src/cli/') && !copied.includes(source)),
    ).toEqual([]);
    expect(cli).not.toMatch(/class OptionError\b/);
  });

  it('names the CLI as the s2s-auth bin and exposes package.json', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ 's2s-auth': 'dist/cli.js' });
    const out = await node(['-e', `console.log(require('s2s-auth/package.json').name)`]);
    expect(out.trim()).toBe('s2s-auth');
  });
});
