/**
 * The layers of `src/` (docs/architecture.md): which folder may import which. A folder below
 * never imports one above it, the client and the resource server never import each other, and
 * the CLI uses the SDK only through its public entry points.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

/** Each part of `src/`, and the parts it may import (besides itself). */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  generated: [],
  errors: [],
  'token-error': ['errors'],
  crypto: [],
  profiles: [],
  shared: ['crypto', 'generated'],
  transport: ['shared', 'errors', 'generated'],
  dpop: ['shared', 'crypto'],
  client: ['transport', 'dpop', 'profiles', 'shared', 'crypto', 'errors', 'generated'],
  introspection: ['transport', 'shared', 'errors', 'generated'],
  server: [
    'introspection',
    'transport',
    'profiles',
    'shared',
    'crypto',
    'errors',
    'token-error',
    'generated',
  ],
  middleware: ['server', 'shared', 'errors', 'token-error'],
  redis: ['server', 'shared', 'crypto', 'errors'],
  observability: ['client', 'server', 'shared'],
  testing: ['dpop', 'shared', 'crypto', 'errors'],
  entry: [
    'client',
    'server',
    'introspection',
    'middleware',
    'redis',
    'observability',
    'testing',
    'transport',
    'dpop',
    'shared',
    'crypto',
    'errors',
    'token-error',
    'generated',
    'profiles',
  ],
  cli: ['entry', 'shared'],
};

/** The part of `src/` a file belongs to: `src/runtime/<part>/…`, `src/cli/…`, or an entry point. */
function partOf(file: string): string {
  const segments = file.split('/');
  if (segments[1] === 'runtime') return (segments[2] ?? '').replace(/\.(ts|js)$/, '');
  if (segments.length === 2) return 'entry';
  return segments[1] ?? '';
}

function sources(): string[] {
  return readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

/** Every relative import of a file (static, type-only and dynamic), as a path from the root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)];
  return specifiers.map((match) =>
    normalize(join(dirname(file), match[1] ?? ''))
      .split('\\')
      .join('/'),
  );
}

const edges = sources().flatMap((file) =>
  importsOf(file).map((target) => ({ file, from: partOf(file), to: partOf(target), target })),
);

describe('the layers of src/', () => {
  it('knows every part of src/', () => {
    const parts = new Set(sources().map(partOf));
    expect([...parts].filter((part) => MAY_IMPORT[part] === undefined)).toEqual([]);
    expect(edges.length).toBeGreaterThan(100);
  });

  it('imports only downwards: each part only what its layer may use', () => {
    const breaches = edges
      .filter(({ from, to }) => from !== to && !(MAY_IMPORT[from] ?? []).includes(to))
      .map(({ file, target }) => `${file} → ${target}`);
    expect(breaches).toEqual([]);
  });

  it('keeps the client and the resource server apart, so each entry point bundles only its half', () => {
    const crossings = edges
      .filter(
        ({ from, to }) =>
          (from === 'client' && ['server', 'middleware', 'introspection'].includes(to)) ||
          (['server', 'middleware', 'introspection'].includes(from) && to === 'client'),
      )
      .map(({ file, target }) => `${file} → ${target}`);
    expect(crossings).toEqual([]);
  });

  it('lets the CLI use the SDK only through its public entry points', () => {
    const inner = edges
      .filter(({ from, to }) => from === 'cli' && !['cli', 'entry', 'shared'].includes(to))
      .map(({ file, target }) => `${file} → ${target}`);
    expect(inner).toEqual([]);
  });
});
