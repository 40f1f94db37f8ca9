/**
 * The Markdown pages under docs/ read as well on GitHub (or in an editor) as on the site: no
 * link syntax that only the site build understands, and every relative link reaches a file of
 * the repository (and, into another page, one of its headings).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const docs = join(root, 'docs');

async function pages(): Promise<string[]> {
  const entries = await readdir(docs, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !relative(docs, file).startsWith('site'))
    .sort();
}

/** The text outside fenced code blocks and code spans, where links are links. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as `-`. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  for (const [, heading] of markdown
    .replace(/^```[\s\S]*?^```$/gm, '')
    .matchAll(/^#{1,6}\s+(.+)$/gm)) {
    found.add(slug(heading!));
  }
  return found;
}

describe('the Markdown pages under docs/', () => {
  it('use no link syntax of the site build: no {@link …} and no site: links', async () => {
    const offending: string[] = [];
    for (const file of await pages()) {
      const text = prose(await readFile(file, 'utf8'));
      for (const [match] of text.matchAll(/\{@link[^}]*\}|\]\(site:[^)]*\)/g)) {
        offending.push(`${relative(root, file)}: ${match}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('link only to files that exist, and to headings those pages have', async () => {
    const broken: string[] = [];
    for (const file of await pages()) {
      const text = prose(await readFile(file, 'utf8'));
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        if (/^(?:[a-z][a-z0-9+.-]*:|#|\/\/)/i.test(target!)) continue; // external or same page
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const resolved = join(dirname(file), decodeURI(path));
        if (!existsSync(resolved)) {
          broken.push(`${relative(root, file)} → ${target} (no such file)`);
          continue;
        }
        if (anchor && resolved.endsWith('.md')) {
          if (!anchors(await readFile(resolved, 'utf8')).has(anchor))
            broken.push(`${relative(root, file)} → ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
