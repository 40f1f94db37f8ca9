/**
 * The built package as a user gets it: through its `exports` map, from ESM and from CommonJS.
 * Runs against dist/, so `npm run build` must come first (`npm test` does that).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const dist = join(root, 'dist');

const contract = {
  's2s-auth': ['createAuthClient', 'createResourceServer', 'introspectToken', 'AuthError', 'OAuthError', 'NetworkError', 'ProtocolError', 'TokenError'],
  's2s-auth/client': ['createAuthClient', 'AuthError', 'OAuthError', 'NetworkError', 'ProtocolError', 'TokenError'],
  's2s-auth/server': ['createResourceServer', 'introspectToken', 'AuthError', 'OAuthError', 'NetworkError', 'ProtocolError', 'TokenError'],
} as const;

async function node(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, args, { cwd: root });
  return stdout;
}

beforeAll(() => {
  if (!existsSync(join(dist, 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
});

describe('package exports', () => {
  it.each(Object.entries(contract))('%s exports the contract names to ESM importers', async (specifier, names) => {
    const out = await node(['--input-type=module', '-e', `import * as m from '${specifier}'; console.log(JSON.stringify(Object.keys(m)))`]);
    expect(JSON.parse(out)).toEqual(expect.arrayContaining([...names]));
  });

  it.each(Object.entries(contract))('%s exports the contract names to require()', async (specifier, names) => {
    const out = await node(['-e', `console.log(JSON.stringify(Object.keys(require('${specifier}'))))`]);
    expect(JSON.parse(out)).toEqual(expect.arrayContaining([...names]));
  });

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
    for (const entry of ['index', 'client', 'server']) {
      expect(existsSync(join(dist, `${entry}.d.ts`))).toBe(true);
      expect(existsSync(join(dist, `${entry}.d.cts`))).toBe(true);
    }
  });

  it('imports nothing from node: in the default build (WebCrypto and fetch only)', () => {
    const files = readdirSync(dist).filter((file) => /\.(c?js)$/.test(file));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(readFileSync(join(dist, file), 'utf8'), file).not.toMatch(/(?:from\s*|require\()\s*["']node:/);
    }
  });

  it('keeps client code out of s2s-auth/server', () => {
    const server = readFileSync(join(dist, 'server.js'), 'utf8');
    const chunks = [...server.matchAll(/from\s*["']\.\/([^"']+)["']/g)].map((m) => readFileSync(join(dist, m[1]!), 'utf8'));
    for (const code of [server, ...chunks]) expect(code).not.toContain('client_credentials');
  });
});
