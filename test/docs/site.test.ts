/**
 * The documentation site as a reader sees it: built with `scripts/build-docs.mjs`, served from
 * 127.0.0.1 and opened in Debian's headless Chromium. Every request that is not for the local
 * server is refused, so a page that needs the network shows up as a failure here.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fileFor, serveDirectory, type StaticServer } from './static-server.js';

const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const root = fileURLToPath(new URL('../..', import.meta.url));
const artifacts = join(root, 'artifacts');
const run = promisify(execFile);

/** Operations the API reference must show, by operationId; summaries come from openapi.yaml. */
const requiredOperations = ['requestToken', 'getJwks', 'introspectToken'];
/** Functions the SDK reference must list. */
const requiredFunctions = ['createAuthClient', 'createResourceServer', 'introspectToken'];

interface Spec {
  paths: Record<string, Record<string, { operationId?: string; summary?: string }>>;
}

async function operationSummaries(): Promise<Map<string, string>> {
  const spec = parse(await readFile(join(root, 'openapi.yaml'), 'utf8')) as Spec;
  const summaries = new Map<string, string>();
  for (const item of Object.values(spec.paths)) {
    for (const operation of Object.values(item)) {
      if (operation.operationId && operation.summary)
        summaries.set(operation.operationId, operation.summary);
    }
  }
  return summaries;
}

/** A page's title as the site shows it: its front-matter `title`, else its first heading. */
function titleOf(text: string): string | undefined {
  const frontMatter = /^---\n([\s\S]*?)\n---\n/.exec(text);
  const title = frontMatter && /^title:\s*(.+)$/m.exec(frontMatter[1]!)?.[1];
  if (title) return title.trim().replace(/^(['"])(.*)\1$/, '$2');
  return /^#\s+(.+)$/m.exec(text)?.[1]?.trim().replace(/`/g, '');
}

/** The titles of the Markdown pages `files` (relative to docs/), in that order. */
async function titles(files: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const file of files) {
    const title = titleOf(await readFile(join(root, 'docs', file), 'utf8'));
    if (!title) throw new Error(`docs/${file} has neither a front-matter title nor a heading`);
    found.push(title);
  }
  return found;
}

async function markdownIn(directory: string): Promise<string[]> {
  return (await readdir(join(root, 'docs', directory)))
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => `${directory}/${file}`);
}

const guideTitles = async () => titles(await markdownIn('guides'));
/** The pages about one behaviour across the SDK: each one that exists is on the site. */
const topicTitles = async () =>
  titles(
    ['middleware.md', 'resilience.md', 'security.md', 'architecture.md'].filter((file) =>
      existsSync(join(root, 'docs', file)),
    ),
  );
/** The IdP pages, their index first. */
const idpTitles = async () =>
  titles([
    'idps/README.md',
    ...(await markdownIn('idps')).filter((file) => file !== 'idps/README.md'),
  ]);

/** Matches an element whose whole text is `text`. */
function exactly(text: string): RegExp {
  return new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}

async function htmlFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.html'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('the documentation site in headless Chromium', () => {
  let site: string;
  let server: StaticServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let summaries: Map<string, string>;
  const refused: string[] = [];
  const pageErrors: string[] = [];

  // A missing browser must fail every test with this message, not leave them skipped.
  let missingBrowser: Error | undefined;
  beforeEach(() => {
    if (missingBrowser) throw missingBrowser;
  });

  beforeAll(async () => {
    if (!existsSync(chromiumPath)) {
      missingBrowser = new Error(
        `The docs browser test needs Chromium at ${chromiumPath} and it is missing. ` +
          'Install it with `apt-get update && apt-get install -y chromium`; no browser is downloaded for you.',
      );
      return;
    }
    summaries = await operationSummaries();
    site = await mkdtemp(join(tmpdir(), 's2s-auth-docs-'));
    await run(process.execPath, [join(root, 'scripts', 'build-docs.mjs'), '--out', site], {
      cwd: root,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    server = await serveDirectory(site);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: chromiumArgs,
      headless: true,
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Fail on the step that hangs, with its locator, well before the test's own timeout.
    context.setDefaultTimeout(8_000);
    // Routed on the context, so every page and frame it opens is covered.
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      const local =
        url.protocol === 'file:' ||
        url.protocol === 'data:' ||
        url.protocol === 'blob:' ||
        ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname === '127.0.0.1');
      if (local) return route.continue();
      refused.push(url.href);
      return route.abort('blockedbyclient');
    });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await mkdir(artifacts, { recursive: true });
  }, 60_000);

  async function screenshot(name: string, options: { fullPage?: boolean } = {}): Promise<void> {
    const path = join(artifacts, name);
    await page.screenshot({ path, ...options });
    console.log(`docs screenshot: ${relative(process.cwd(), path)}`);
  }

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (site) await rm(site, { recursive: true, force: true });
  });

  it('has an index page that lists the guides first, then the references, the topics and the IdPs', async () => {
    await page.goto(`${server.origin}/index.html`);
    await expect(page.title()).resolves.toBe('s2s-auth documentation');
    await expect(
      page.getByRole('link', { name: 'API reference', exact: true }).getAttribute('href'),
    ).resolves.toBe('api/index.html');
    await expect(
      page.getByRole('link', { name: 'SDK reference', exact: true }).getAttribute('href'),
    ).resolves.toBe('sdk/index.html');
    await expect(page.locator('main h2').allTextContents()).resolves.toEqual([
      'Guides',
      'SDK reference',
      'API reference',
      'How it behaves',
      'Identity providers',
    ]);
    // Guides in reading order, Getting started first; every file of docs/guides/ is listed.
    const listed = await page.locator('#guides li a').allTextContents();
    expect(listed[0]).toBe('Getting started');
    expect([...listed].sort()).toEqual((await guideTitles()).sort());
    await expect(page.locator('#topics li a').allTextContents()).resolves.toEqual(
      await topicTitles(),
    );
    await expect(page.locator('#idps li a').allTextContents()).resolves.toEqual(await idpTitles());

    await screenshot('docs.png', { fullPage: true });
  });

  it('shows every summary on the index page as text, with no Markdown left in it', async () => {
    await page.goto(`${server.origin}/index.html`);
    const items = await page.locator('main li').allTextContents();
    expect(items.length).toBeGreaterThan(20);
    for (const item of items) {
      expect(item, 'a summary follows the link').toMatch(/ — \S/);
      expect(item).not.toMatch(/`|\{@link|\]\(|\*\*|(^|\s)_\w/);
    }
    // Code spans are shown as code.
    await expect(
      page
        .locator('#sdk-reference li', { hasText: 's2s-auth/hono' })
        .locator('code')
        .allTextContents(),
    ).resolves.toContain("c.get('auth')");
  });

  it('renders the token, JWKS and introspection operations in the API reference', async () => {
    await page.goto(`${server.origin}/index.html`);
    await page.getByRole('link', { name: 'API reference', exact: true }).click();
    await page.waitForURL(`${server.origin}/api/index.html`);
    // Redoc renders an operation when it is routed to, so following each operation's link
    // shows both that the page's script runs and that the operation is described.
    for (const operationId of requiredOperations) {
      const summary = summaries.get(operationId);
      expect(summary, `openapi.yaml has a summary for ${operationId}`).toBeTruthy();
      const route = operationId.toLowerCase();
      await page.locator(`a[href$="/${route}"]:visible`).first().click();
      await page.waitForURL(new RegExp(`#/[^/]+/${route}$`));
      await page
        .locator('h1, h2')
        .filter({ hasText: exactly(summary!) })
        .first()
        .waitFor({ state: 'visible' });
    }
    await screenshot('docs-api.png');

    // Its own navigation leads back to the rest of the site.
    await page
      .getByRole('navigation', { name: 'Documentation' })
      .getByRole('link', { name: 'SDK reference' })
      .click();
    await page.waitForURL(`${server.origin}/sdk/index.html`);
  }, 30_000);

  it('lists createAuthClient, createResourceServer and introspectToken in the SDK reference', async () => {
    await page.goto(`${server.origin}/index.html`);
    await page.getByRole('link', { name: 'SDK reference', exact: true }).click();
    await page.waitForURL(`${server.origin}/sdk/index.html`);

    // The sidebar is drawn by TypeDoc's script from its navigation data.
    const sidebar = page.locator('#tsd-nav-container');
    for (const name of requiredFunctions) {
      // Collapsed branches of the tree are hidden from the accessibility tree, so match by text.
      await sidebar
        .locator('a')
        .filter({ hasText: exactly(name) })
        .first()
        .waitFor({ state: 'attached' });
    }

    // Each entry point's page lists its members; follow each function to its own page.
    const modules = [
      ...new Set(
        await page
          .locator('.col-content a.tsd-kind-module')
          .evaluateAll((links) => links.map((link) => (link as HTMLAnchorElement).href)),
      ),
    ];
    expect(modules.map((href) => href.slice(href.lastIndexOf('/') + 1)).sort()).toEqual([
      's2s-auth.html',
      's2s-auth_client.html',
      's2s-auth_server.html',
    ]);
    const found = new Set<string>();
    for (const module of modules) {
      await page.goto(module);
      for (const name of requiredFunctions) {
        const link = page.locator('.col-content').getByRole('link', { name, exact: true }).first();
        if ((await link.count()) === 0 || found.has(name)) continue;
        await link.click();
        await expect(page.locator('h1').first().textContent()).resolves.toContain(name);
        await expect(page.locator('.tsd-signature').first().textContent()).resolves.toContain(
          `${name}(`,
        );
        found.add(name);
        await page.goBack();
      }
    }
    expect([...found].sort()).toEqual([...requiredFunctions].sort());
    await page.goto(`${server.origin}/sdk/functions/s2s-auth_client.createAuthClient.html`);
    await screenshot('docs-sdk.png');
  }, 30_000);

  it('renders every page, and their links reach the references and the index', async () => {
    await page.goto(`${server.origin}/index.html`);
    const guides = await page
      .locator('#guides li a, #topics li a, #idps li a')
      .evaluateAll((links) =>
        links.map((link) => ({
          title: link.textContent ?? '',
          href: (link as HTMLAnchorElement).href,
        })),
      );
    expect(guides.length).toBeGreaterThan(0);
    const apiRoutes = new Set<string>();
    let symbolLinks = 0;
    for (const guide of guides) {
      await page.goto(guide.href);
      await expect(page.locator('h1').first().textContent()).resolves.toBe(guide.title);
      for (const href of await page
        .locator('.col-content a[href]')
        .evaluateAll((links) => links.map((link) => (link as HTMLAnchorElement).href))) {
        if (href.startsWith(`${server.origin}/api/index.html#/`)) apiRoutes.add(href);
        if (href.startsWith(`${server.origin}/sdk/`) && !href.includes('/documents/'))
          symbolLinks++;
      }
    }
    expect(symbolLinks, 'guides link into the SDK reference').toBeGreaterThan(0);
    expect(apiRoutes.size, 'guides link into the API reference').toBeGreaterThan(0);

    // Deep links into the API reference land on the operation they name.
    const byRoute = new Map(
      [...summaries].map(([operationId, summary]) => [operationId.toLowerCase(), summary]),
    );
    for (const href of apiRoutes) {
      const summary = byRoute.get(href.split('/').pop() ?? '');
      await page.goto(href);
      if (summary === undefined) continue;
      await page
        .locator('h1, h2')
        .filter({ hasText: exactly(summary) })
        .first()
        .waitFor({ state: 'visible' });
    }

    // A code span naming an API is a link to its page; one naming an entry point, to its module.
    await page.goto(guides[0]!.href);
    await expect(
      page
        .locator('.col-content a', {
          has: page.locator('code', { hasText: exactly('createAuthClient') }),
        })
        .first()
        .getAttribute('href'),
    ).resolves.toBe('../functions/s2s-auth_client.createAuthClient.html');
    await expect(
      page
        .locator('.col-content a', {
          has: page.locator('code', { hasText: exactly('s2s-auth/server') }),
        })
        .first()
        .getAttribute('href'),
    ).resolves.toBe('../modules/s2s-auth_server.html');
    // The IdP index links each IdP's page, as its Markdown table does on GitHub.
    const idps = guides.find((guide) => guide.title === 'Identity providers');
    await page.goto(idps!.href);
    await page
      .locator('.col-content table')
      .getByRole('link', { name: 'Okta', exact: true })
      .click();
    await page.waitForURL(/\/sdk\/documents\/Okta\.html$/);
    await expect(page.locator('h1').first().textContent()).resolves.toBe('Okta');

    // Follow links by clicking, as a reader would: guide → SDK reference → guide → index.
    await page.goto(guides[0]!.href);
    await page.locator('.col-content a[href*="/functions/"]').first().click();
    await page.waitForURL(/\/sdk\/functions\//);
    await expect(page.locator('.tsd-signature').count()).resolves.toBeGreaterThan(0);
    await page.goBack();
    await screenshot('docs-guide.png');
    await page.locator('header').getByRole('link', { name: 'Docs home' }).first().click();
    await page.waitForURL(`${server.origin}/index.html`);
  }, 30_000);

  it('has no broken link or anchor on any page outside the API reference', async () => {
    const broken: string[] = [];
    const contents = new Map<string, string>();
    const read = async (file: string) => {
      if (!contents.has(file)) contents.set(file, await readFile(file, 'utf8'));
      return contents.get(file)!;
    };
    for (const file of await htmlFiles(site)) {
      const path = `/${relative(site, file).split('\\').join('/')}`;
      if (path.startsWith('/api/')) continue; // Redoc's page routes in the browser; checked above.
      const html = await read(file);
      for (const [, target] of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
        if (!target || /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i.test(target)) continue; // external or special
        const url = new URL(target.replace(/&amp;/g, '&'), `${server.origin}${path}`);
        const targetFile = fileFor(site, url.pathname);
        if (!targetFile || !existsSync(targetFile)) {
          broken.push(`${path} → ${target}`);
          continue;
        }
        const anchor = decodeURIComponent(url.hash.slice(1));
        if (anchor && !anchor.startsWith('/') && targetFile.endsWith('.html')) {
          const ids = await read(targetFile);
          if (!ids.includes(`id="${anchor}"`) && !ids.includes(`name="${anchor}"`)) {
            broken.push(`${path} → ${target} (no #${anchor})`);
          }
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('asked for nothing outside 127.0.0.1 and threw no script errors', () => {
    expect(refused).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(server.notFound).toEqual([]);
  });
});
