#!/usr/bin/env node
// Builds the documentation site (default docs/site/, or the directory given with --out):
//
//   index.html   one page linking everything below, the guides first
//   api/         the API reference: openapi.yaml rendered by Redocly as one self-contained page
//   sdk/         the SDK reference (TypeDoc, from the TSDoc of the entry points) with the
//                hand-written pages rendered into the same site: every guide of docs/guides/,
//                the pages named in `topicPages` that exist, and docs/idps/
//
// The pages are plain Markdown that reads as well on GitHub as on the site: links to other
// pages are relative links to their .md files, a link to the API reference is a link to
// openapi.yaml (with the operation's route as its anchor), and an API name is a code span such
// as `createResourceServer` or `ResourceServer.verifyRequest`, which the site links to its page.
//
// Nothing here reaches the network: Redocly runs with telemetry off and inlines its script,
// TypeDoc runs with source links off (no git remote lookups).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Application,
  Converter,
  DeclarationReflection,
  PageEvent,
  ReflectionKind,
  RendererEvent,
} from 'typedoc';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/**
 * The guides in reading order. A guide of docs/guides/ missing here still gets on the site,
 * after these, in the order of its file name.
 */
const guideOrder = [
  'getting-started',
  'client-credentials-and-caching',
  'dpop-end-to-end',
  'resource-server',
  'introspection-vs-local-verification',
  'secretless',
  'mtls',
  'testing-your-service',
  'configuration-reference',
  'troubleshooting',
];
/** Pages of docs/ about one behaviour across the SDK; the ones that exist are on the site. */
const topicPages = ['middleware', 'resilience', 'security', 'architecture'];

/**
 * The hand-written pages of the site, by section of the index page: every guide, the topic
 * pages that exist, and the IdP pages (their index first).
 */
async function documentSections() {
  const markdownIn = async (directory) =>
    (await readdir(join(root, directory)))
      .filter((name) => name.endsWith('.md'))
      .map((name) => name.slice(0, -3))
      .sort();
  const rank = (name) => (guideOrder.includes(name) ? guideOrder.indexOf(name) : guideOrder.length);
  const guides = (await markdownIn('docs/guides')).sort((a, b) => rank(a) - rank(b));
  const idps = await markdownIn('docs/idps');
  return [
    { id: 'guides', title: 'Guides', files: guides.map((name) => `docs/guides/${name}.md`) },
    {
      id: 'topics',
      title: 'How it behaves',
      files: topicPages
        .map((name) => `docs/${name}.md`)
        .filter((file) => existsSync(join(root, file))),
    },
    {
      id: 'idps',
      title: 'Identity providers',
      files: ['README', ...idps.filter((name) => name !== 'README')]
        .filter((name) => idps.includes(name))
        .map((name) => `docs/idps/${name}.md`),
    },
  ];
}

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
 * Links written as `site:<path>` (typedoc.json's navigationLinks, and the links to the API
 * reference made from links to openapi.yaml) point outside the TypeDoc output, to the index
 * page or the API reference. TypeDoc leaves them alone; here they become relative to the page
 * they are on, so the site works from any base.
 */
function rewriteSiteLinks(html, pageUrl, sdkPrefix) {
  const depth = pageUrl.split('/').length - 1;
  const up = '../'.repeat(depth) + sdkPrefix;
  return html.replace(
    /(href=")site:([^"]*)"/g,
    (_, attribute, target) => `${attribute}${up}${target}"`,
  );
}

/**
 * The declarations an API name in a page's code span can mean: `createAuthClient`,
 * `TokenError`, an entry point such as `s2s-auth/server`, or a member such as
 * `ResourceServer.verifyRequest`. A name two entry points declare differently
 * (`requireServiceAuth` of Hono, Express and Fastify) means none of them.
 */
function apiNames(project) {
  const byName = new Map();
  const add = (name, reflection) => {
    const known = byName.get(name);
    byName.set(name, known === undefined || known === reflection ? reflection : null);
  };
  for (const module of project.getChildrenByKind(ReflectionKind.Module)) {
    add(module.name, module);
    for (const child of module.children ?? []) {
      // A re-export of what another entry point declares is a reference to it: skipped.
      if (!(child instanceof DeclarationReflection) || child.kindOf(ReflectionKind.Reference))
        continue;
      add(child.name, child);
      for (const member of child.children ?? []) {
        if (member.kindOf(ReflectionKind.SomeMember)) add(`${child.name}.${member.name}`, member);
      }
    }
  }
  return byName;
}

/**
 * Turns the code spans of a page that name an API declaration (alone, or called with its
 * arguments) into links to its page, and links to openapi.yaml into links to the API reference
 * (the anchor, an operation's route, kept). Code spans in headings and in link texts stay as
 * they are.
 */
function linkPageParts(parts, names, project) {
  let line = '';
  return parts.map((part) => {
    if (part.kind === 'relative-link' && typeof part.target === 'number') {
      const path = project.files.resolvePath(part.target);
      if (path === join(root, 'openapi.yaml').split(sep).join('/')) {
        line += 'x';
        return {
          kind: 'text',
          text: `site:api/index.html${part.targetAnchor ? `#${part.targetAnchor}` : ''}`,
        };
      }
    }
    const before = line;
    line = `${line}${part.kind === 'code' ? 'x' : part.text}`.split('\n').pop();
    if (part.kind !== 'code') return part;
    // `createDpopKey`, `ResourceServer.verifyRequest`, `s2s-auth/server`, `requestFromNode(req)`.
    const [, shown, name] = /^`(([\w$][\w$/.-]*?)(?:\(.*)?)`$/s.exec(part.text) ?? [];
    const target = name === undefined ? undefined : names.get(name);
    const inHeading = /^\s*#/.test(before);
    const inLinkText = before.lastIndexOf('[') > before.lastIndexOf(']');
    if (!target || inHeading || inLinkText) return part;
    // TypeDoc writes a link's text into the page as it is: as HTML, so escaped.
    return { kind: 'inline-tag', tag: '@linkcode', text: escapeHtml(shown), target };
  });
}

/** The SDK reference and the pages, through TypeDoc's API so the pages and their URLs are known. */
async function buildSdkReference(site, sections) {
  const out = join(site, 'sdk');
  const files = sections.flatMap((section) => section.files);
  const app = await Application.bootstrapWithPlugins({
    options: join(root, 'typedoc.json'),
    out,
    projectDocuments: files,
  });
  if (app.logger.hasErrors()) throw new Error('build-docs: typedoc.json has errors (see above)');
  const sdkPrefix = `${posix.join(...relative(out, site).split(/[\\/]/))}/`;
  const described = new Map();
  for (const file of files) {
    const path = join(root, file);
    described.set(path.split(sep).join('/'), {
      file,
      ...describePage(await readFile(path, 'utf8')),
    });
  }
  const pages = { modules: [], documents: [] };

  // A page without a front-matter title is named after its first heading, as it reads on GitHub;
  // the sidebar groups the pages as the index page does.
  app.converter.on(Converter.EVENT_CREATE_DOCUMENT, (_context, document) => {
    const page = described.get(document.project.files.getReflectionPath(document));
    if (page?.title && !page.titled) document.name = page.title;
    const section = sections.find((candidate) => candidate.files.includes(page?.file));
    if (section) document.frontmatter.group = section.title;
  });
  // After TypeDoc's own link resolution (priority -300), so these links are left as made.
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      const { project } = context;
      const names = apiNames(project);
      if (project.readme) project.readme = linkPageParts(project.readme, names, project);
      for (const document of project.getReflectionsByKind(ReflectionKind.Document)) {
        document.content = linkPageParts(document.content, names, project);
      }
    },
    -400,
  );
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
        const source = described.get(model.project.files.getReflectionPath(model));
        pages.documents.push({
          name: model.name,
          url: page.url,
          file: source?.file,
          summary: source?.summary ?? '',
        });
      }
    }
  });

  const project = await app.convert();
  if (!project)
    throw new Error('build-docs: TypeDoc could not convert the project (see the errors above)');
  app.validate(project);
  if (app.logger.hasErrors() || app.logger.hasWarnings()) {
    throw new Error('build-docs: TypeDoc reported problems (see above)');
  }
  await app.generateOutputs(project);
  if (app.logger.hasErrors() || app.logger.hasWarnings()) {
    throw new Error('build-docs: TypeDoc reported problems (see above)');
  }
  // The spec is on the site as the API reference, not as a copy among TypeDoc's media files.
  await rm(join(out, 'media', 'openapi.yaml'), { force: true });
  return pages;
}

/**
 * Inline Markdown as the index page shows it: text, with code spans as `<code>`. Links keep
 * their text, `{@link target}` its target's name, emphasis its words: no raw Markdown is left.
 */
function inlineMarkdown(markdown) {
  return markdown
    .split(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/)
    .map((piece, index, pieces) => {
      if (index % 3 === 1) return '';
      if (index % 3 === 2) return `<code>${escapeHtml(pieces[index].trim())}</code>`;
      const plain = piece
        .replace(/\{@link(?:code|plain)?\s+([^}|\s]+)(?:\s*\|\s*([^}]*))?\}/g, (_, target, text) =>
          (text ?? target).trim().replace(/^.*!/, ''),
        )
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/(\*\*|__)(.+?)\1/g, '$2')
        .replace(/(^|[^\w*])[*_]([^*_\s][^*_]*?)[*_](?![\w*])/g, '$1$2');
      return escapeHtml(plain);
    })
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The first sentence of a Markdown paragraph: up to the first `.`, `!` or `?` outside a code
 * span that ends the text or is followed by a space (and is not the end of "e.g." or "i.e.").
 */
function firstSentence(markdown) {
  let inCode = false;
  for (let i = 0; i < markdown.length; i++) {
    const c = markdown[i];
    if (c === '`') inCode = !inCode;
    if (inCode || !'.!?'.includes(c)) continue;
    if (i + 1 < markdown.length && !/\s/.test(markdown[i + 1])) continue;
    if (/\b(?:e\.g|i\.e|etc|vs)\.$/.test(markdown.slice(Math.max(0, i - 4), i + 1))) continue;
    return markdown.slice(0, i + 1);
  }
  return markdown;
}

/** The first sentence of a TSDoc comment's summary, as {@link inlineMarkdown}. */
function summaryOf(comment) {
  if (!comment) return '';
  const markdown = comment.summary
    .map((part) =>
      part.kind === 'inline-tag' ? part.text.trim().replace(/^.*!/, '') || part.text : part.text,
    )
    .join('');
  return inlineMarkdown(
    firstSentence(
      markdown
        .split(/\n\s*\n/)[0]
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

/**
 * A page's title and summary: its front matter's `title` and `summary` when it has them, else
 * its first `#` heading and the first sentence of the paragraph after it.
 */
function describePage(text) {
  const frontMatter = /^---\n([\s\S]*?)\n---\n/.exec(text);
  const field = (name) =>
    frontMatter
      ? new RegExp(`^${name}:\\s*(.+)$`, 'm')
          .exec(frontMatter[1])?.[1]
          ?.trim()
          .replace(/^(['"])(.*)\1$/, '$2')
      : undefined;
  const body = frontMatter ? text.slice(frontMatter[0].length) : text;
  const heading = /^#\s+(.+)$/m.exec(body);
  const afterHeading = heading ? body.slice(heading.index + heading[0].length) : body;
  const paragraph =
    afterHeading
      .split(/\n\s*\n/)
      .map((block) => block.trim())
      .find((block) => block && !/^(?:[#|>]|```|<|[-*]\s|\d+\.\s)/.test(block)) ?? '';
  return {
    titled: field('title') !== undefined,
    title: field('title') ?? heading?.[1].trim().replace(/`/g, ''),
    summary: inlineMarkdown(field('summary') ?? firstSentence(paragraph.replace(/\s+/g, ' '))),
  };
}

function indexPage({ modules, documents }, sections) {
  const item = (href, label, summary) =>
    `<li><a href="${escapeHtml(href)}">${label}</a>${summary ? ` — ${summary}` : ''}</li>`;
  const moduleItems = modules
    .map((m) => item(`sdk/${m.url}`, `<code>${escapeHtml(m.name)}</code>`, m.summary))
    .join('\n            ');
  const pageSections = sections
    .map((section) => {
      const items = documents
        .filter((d) => section.files.includes(d.file))
        .map((d) => item(`sdk/${d.url}`, escapeHtml(d.name), d.summary))
        .join('\n          ');
      return items
        ? `<section class="pages" id="${section.id}">
        <h2>${escapeHtml(section.title)}</h2>
        <ul>
          ${items}
        </ul>
      </section>`
        : '';
    })
    .filter(Boolean);
  const [guides, ...others] = pageSections;
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
      .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); align-items: start; gap: 1rem; margin: 1.5rem 0; }
      section { border: 1px solid color-mix(in srgb, currentColor 18%, transparent); border-radius: 0.6rem; padding: 1rem 1.25rem; }
      section h2 { font-size: 1.15rem; margin: 0 0 0.5rem; }
      section p { margin: 0 0 0.75rem; }
      ul { margin: 0; padding-left: 1.2rem; }
      li { margin: 0.3rem 0; }
      a { color: var(--accent); }
      code { font: 0.92em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
      .pages + .pages { margin-top: 1.5rem; }
    </style>
  </head>
  <body>
    <main>
      <h1>s2s-auth</h1>
      <p class="lead">OAuth 2.0 service-to-service authentication for TypeScript: a client that mints, caches
        and DPoP-binds <code>client_credentials</code> tokens, and a resource server that verifies them.</p>
      ${guides ?? ''}
      <div class="cards">
        <section id="sdk-reference">
          <h2><a href="sdk/index.html">SDK reference</a></h2>
          <p>Every public function, type and error, generated from the TSDoc of the entry points.</p>
          <ul>
            ${moduleItems}
          </ul>
        </section>
        <section id="api-reference">
          <h2><a href="api/index.html">API reference</a></h2>
          <p>The authorization-server wire the SDK speaks, rendered from <code>openapi.yaml</code>:
            discovery, token, JWKS, introspection and revocation.</p>
        </section>
      </div>
      ${others.join('\n      ')}
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

  const sections = await documentSections();
  const api = buildApiReference(out);
  await checkSelfContained(api);
  const pages = await buildSdkReference(out, sections);
  const guides = pages.documents.filter((d) => sections[0].files.includes(d.file));
  if (guides.length === 0) throw new Error('build-docs: no guides were rendered');
  await writeFile(join(out, 'index.html'), indexPage(pages, sections));
  await copyFile(join(root, 'docs', 'favicon.svg'), join(out, 'favicon.svg'));

  const shown = relative(process.cwd(), out) || '.';
  console.log(
    `docs: ${shown}/index.html — API reference, SDK reference (${pages.modules.length} modules), ` +
      `${guides.length} guides and ${pages.documents.length - guides.length} other pages in ${Date.now() - started} ms`,
  );
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
