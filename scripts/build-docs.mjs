#!/usr/bin/env node
// Builds the documentation site (default docs/site/, or the directory given with --out):
//
//   index.html   one page linking everything below
//   api/         the API reference: openapi.yaml rendered by Redocly as one self-contained page
//   sdk/         the SDK reference (TypeDoc, from the TSDoc of the entry points) with the
//                hand-written guides of docs/guides/ rendered into the same site
//
// Nothing here reaches the network: Redocly runs with telemetry off and inlines its script,
// TypeDoc runs with source links off (no git remote lookups).
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, PageEvent, ReflectionKind, RendererEvent } from 'typedoc';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

function parseArguments(argv) {
  let out = join(root, 'docs', 'site');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1]) out = resolve(argv[++i]);
    else if (argv[i].startsWith('--out=')) out = resolve(argv[i].slice('--out='.length));
    else
      throw new Error(
        `build-docs: unknown argument ${argv[i]} (usage: build-docs.mjs [--out <dir>])`,
      );
  }
  return { out };
}

const escapeHtml = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

/** The API reference: one HTML file with Redoc's script inlined, so it renders offline. */
function buildApiReference(site) {
  const pkg = require('@redocly/cli/package.json');
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.redocly;
  const cli = join(dirname(require.resolve('@redocly/cli/package.json')), bin);
  const output = join(site, 'api', 'index.html');
  const result = spawnSync(
    process.execPath,
    [
      cli,
      'build-docs',
      'openapi.yaml',
      '--config=redocly.yaml',
      '--inlineBundle',
      '--template=docs/api-reference.hbs',
      '--title=s2s-auth API reference',
      `--output=${output}`,
    ],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  );
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    throw new Error(
      `build-docs: redocly build-docs failed (exit ${result.status ?? result.signal})`,
    );
  }
  return output;
}

/** Fails the build if the API page would load anything from elsewhere. */
async function checkSelfContained(file) {
  const html = await readFile(file, 'utf8');
  const remote = /<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i.exec(html);
  if (remote) throw new Error(`build-docs: ${file} loads a remote resource: ${remote[0]}`);
}

/**
 * Links written as `site:<path>` (in the guides and in typedoc.json's navigationLinks) point
 * outside the TypeDoc output, to the index page or the API reference. TypeDoc leaves them
 * alone; here they become relative to the page they are on, so the site works from any base.
 */
function rewriteSiteLinks(html, pageUrl, sdkPrefix) {
  const depth = pageUrl.split('/').length - 1;
  const up = '../'.repeat(depth) + sdkPrefix;
  return html.replace(
    /(href=")site:([^"]*)"/g,
    (_, attribute, target) => `${attribute}${up}${target}"`,
  );
}

/** The SDK reference and the guides, through TypeDoc's API so the pages and their URLs are known. */
async function buildSdkReference(site) {
  const out = join(site, 'sdk');
  const app = await Application.bootstrapWithPlugins({ options: join(root, 'typedoc.json'), out });
  if (app.logger.hasErrors()) throw new Error('build-docs: typedoc.json has errors (see above)');
  const strict = app.options.getValue('treatWarningsAsErrors');
  const sdkPrefix = `${posix.join(...relative(out, site).split(/[\\/]/))}/`;
  const pages = { modules: [], documents: [] };

  app.renderer.on(PageEvent.END, (page) => {
    if (page.contents) page.contents = rewriteSiteLinks(page.contents, page.url, sdkPrefix);
  });
  app.renderer.on(RendererEvent.BEGIN, (event) => {
    for (const page of event.pages) {
      const model = page.model;
      if (model.kindOf?.(ReflectionKind.Module)) {
        const summary = summaryOf(model.comment).replace(new RegExp(`^${model.name}:\\s*`), '');
        pages.modules.push({ name: model.name, url: page.url, summary });
      } else if (model.kindOf?.(ReflectionKind.Document)) {
        pages.documents.push({
          name: model.name,
          url: page.url,
          summary: typeof model.frontmatter?.summary === 'string' ? model.frontmatter.summary : '',
        });
      }
    }
  });

  const project = await app.convert();
  if (!project)
    throw new Error('build-docs: TypeDoc could not convert the project (see the errors above)');
  app.validate(project);
  if (app.logger.hasErrors() || (strict && app.logger.hasWarnings())) {
    throw new Error('build-docs: TypeDoc reported problems (see above)');
  }
  await app.generateOutputs(project);
  if (app.logger.hasErrors() || (strict && app.logger.hasWarnings())) {
    throw new Error('build-docs: TypeDoc reported problems (see above)');
  }
  return { pages, warnings: app.logger.warningCount };
}

/** The first paragraph of a TSDoc comment, as plain text. */
function summaryOf(comment) {
  if (!comment) return '';
  const text = comment.summary.map((part) => part.text).join('');
  return text
    .split(/\n\s*\n/)[0]
    .replace(/\s+/g, ' ')
    .trim();
}

function indexPage({ modules, documents }) {
  const moduleItems = modules
    .map(
      (m) =>
        `<li><a href="sdk/${escapeHtml(m.url)}"><code>${escapeHtml(m.name)}</code></a>${m.summary ? ` — ${escapeHtml(m.summary)}` : ''}</li>`,
    )
    .join('\n          ');
  const guideItems = documents
    .map(
      (d) =>
        `<li><a href="sdk/${escapeHtml(d.url)}">${escapeHtml(d.name)}</a>${d.summary ? ` — ${escapeHtml(d.summary)}` : ''}</li>`,
    )
    .join('\n          ');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>s2s-auth documentation</title>
    <link rel="icon" type="image/svg+xml" href="favicon.svg" />
    <style>
      :root { color-scheme: light dark; --accent: #2563eb; }
      body { font: 16px/1.55 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0; }
      main { max-width: 60rem; margin: 0 auto; padding: 2.5rem 1.5rem 4rem; }
      h1 { font-size: 2rem; margin: 0 0 0.25rem; }
      .lead { margin: 0 0 2rem; opacity: 0.8; }
      .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem; }
      section { border: 1px solid color-mix(in srgb, currentColor 18%, transparent); border-radius: 0.6rem; padding: 1rem 1.25rem; }
      section h2 { font-size: 1.15rem; margin: 0 0 0.5rem; }
      section p { margin: 0 0 0.75rem; }
      ul { margin: 0; padding-left: 1.2rem; }
      li { margin: 0.3rem 0; }
      a { color: var(--accent); }
      code { font: 0.92em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
      .guides { margin-top: 1.5rem; }
    </style>
  </head>
  <body>
    <main>
      <h1>s2s-auth</h1>
      <p class="lead">OAuth 2.0 service-to-service authentication for TypeScript: a client that mints, caches
        and DPoP-binds <code>client_credentials</code> tokens, and a resource server that verifies them.</p>
      <div class="cards">
        <section id="api-reference">
          <h2><a href="api/index.html">API reference</a></h2>
          <p>The authorization-server wire the SDK speaks, rendered from <code>openapi.yaml</code>:
            discovery, token, JWKS, introspection and revocation.</p>
        </section>
        <section id="sdk-reference">
          <h2><a href="sdk/index.html">SDK reference</a></h2>
          <p>Every public function, type and error, generated from the TSDoc of the entry points.</p>
          <ul>
          ${moduleItems}
          </ul>
        </section>
      </div>
      <section class="guides" id="guides">
        <h2>Guides</h2>
        <ul>
          ${guideItems}
        </ul>
      </section>
    </main>
  </body>
</html>
`;
}

async function main() {
  const started = Date.now();
  const { out } = parseArguments(process.argv.slice(2));
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  const api = buildApiReference(out);
  await checkSelfContained(api);
  const { pages, warnings } = await buildSdkReference(out);
  if (pages.documents.length === 0) throw new Error('build-docs: no guides were rendered');
  await writeFile(join(out, 'index.html'), indexPage(pages));
  await copyFile(join(root, 'docs', 'favicon.svg'), join(out, 'favicon.svg'));

  const shown = relative(process.cwd(), out) || '.';
  console.log(
    `docs: ${shown}/index.html — API reference, SDK reference (${pages.modules.length} modules), ` +
      `${pages.documents.length} guides${warnings ? `, ${warnings} TypeDoc warning(s)` : ''} in ${Date.now() - started} ms`,
  );
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
