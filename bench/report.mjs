// Renders bench/results/*.json (the last full run) as Markdown and writes it into
// docs/benchmarks.md between the `bench:results` markers, so the page shows the numbers of one
// real run and nothing typed by hand.
//
//   node bench/report.mjs            print the Markdown
//   node bench/report.mjs --write    update docs/benchmarks.md
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateTargets } from './targets.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const results = join(root, 'bench', 'results');
const suites = [
  'verify-distinct',
  'verify-repeated',
  'get-token',
  'dpop',
  'cold-get-token',
  'memory',
  'import-time',
  'bundle-size',
  'e2e-middleware',
];

const read = async (name) => {
  const file = join(results, `${name}.json`);
  return existsSync(file) ? JSON.parse(await readFile(file, 'utf8')) : undefined;
};

function table(headers, rows, align = 'right') {
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map((_, i) => (i === 0 || align === 'left' ? ':---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

function time(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(0)} ns`;
}

function comparison(c) {
  const lines = [
    `#### ${c.title}`,
    '',
    `Baseline (1.00): ${c.baseline}. ${c.rounds} rounds (+${c.warmup} warm-up) × ${c.batch} operation${c.batch === 1 ? '' : 's'}.`,
    '',
    table(
      ['contender', 'speed vs baseline (median)', 'per-round range', 'median time per op'],
      c.results.map((r) =>
        r.skipped
          ? [r.name, '—', r.skipped, '—']
          : [
              r.name,
              `**${r.ratio.toFixed(2)}**`,
              `${r.ratioRange[0].toFixed(2)}–${r.ratioRange[1].toFixed(2)}`,
              time(r.medianNs),
            ],
      ),
    ),
  ];
  if (c.notes.length > 0) lines.push('', ...c.notes.map((note) => `- ${note}`));
  return lines.join('\n');
}

export async function render() {
  const out = [];
  const environment = await read('environment');
  const reports = (await Promise.all(suites.map(read))).filter(Boolean);
  const targets = { targets: evaluateTargets(reports) };
  if (environment) {
    out.push(
      `Run of ${environment.at.slice(0, 16).replace('T', ' ')} UTC: Node ${environment.node} (V8 ${environment.v8}, OpenSSL ${environment.openssl}), ` +
        `${environment.os}, ${environment.cpu} × ${environment.cores} cores, ${environment.memoryGiB} GiB. ` +
        `Versions: ${Object.entries(environment.versions)
          .map(([name, version]) => `${name} ${version}`)
          .join(', ')}.`,
      '',
    );
  }
  if (targets.targets.length > 0) {
    out.push(
      '### Targets',
      '',
      table(
        ['target', 'measured', 'met'],
        targets.targets.map((t) => [
          t.target,
          t.measured,
          t.met ? 'yes' : `**no**${t.detail ? ` (${t.detail})` : ''}`,
        ]),
        'left',
      ),
      '',
    );
  }
  for (const name of suites) {
    const report = await read(name);
    if (!report) continue;
    out.push(`### ${name}`, '');
    for (const c of report.comparisons) out.push(comparison(c), '');
    if (name === 'memory') {
      out.push(
        table(
          ['item', 'count', 'heap bytes / item', 'external bytes / item', 'note'],
          report.measurements.perItem.map((row) => [
            row.what,
            String(row.count),
            String(row.heapBytes),
            String(row.externalBytes),
            row.note ?? '',
          ]),
        ),
        '',
      );
    }
    if (name === 'import-time') {
      const rows = report.measurements.modules;
      const openid = rows.find((row) => row.name === 'openid-client');
      out.push(
        `Medians of ${report.measurements.rounds} interleaved rounds, each module in a fresh process.`,
        '',
        table(
          [
            'module',
            'import() inside the process',
            'added wall time over bare node',
            'added, vs openid-client',
          ],
          rows
            .filter((row) => row.name !== 'bare node (imports nothing)')
            .map((row) => [
              row.name,
              `${row.importMs.toFixed(1)} ms`,
              `${row.addedMs.toFixed(1)} ms`,
              `${(row.addedMs / openid.addedMs).toFixed(2)}×`,
            ]),
        ),
        '',
      );
    }
    if (name === 'bundle-size') {
      const sizes = report.measurements.sizes;
      out.push(
        table(
          ['job done with', 'minified', 'gzip -9', 'largest parts (minified)'],
          Object.entries(sizes).map(([library, size]) => [
            library,
            `${(size.minified / 1000).toFixed(1)} KB`,
            `**${(size.gzip / 1000).toFixed(1)} KB**`,
            Object.entries(size.byPackage)
              .slice(0, 5)
              .map(([part, bytes]) => `${part} ${(bytes / 1000).toFixed(1)} KB`)
              .join(', '),
          ]),
        ),
        '',
      );
    }
    if (name === 'e2e-middleware') out.push(...endToEnd(report.startedAt, report.measurements));
  }
  return out.join('\n').trimEnd();
}

const range = ([low, high], digits = 2) => `${low.toFixed(digits)}–${high.toFixed(digits)}`;

/** The end-to-end tables: one per framework, each row as ratios to its unguarded route. */
function endToEnd(at, m) {
  const lines = [
    `Run of ${at.slice(0, 16).replace('T', ' ')} UTC. ` +
      `${m.rounds} rounds (+${m.warmup} warm-up), in each every contender for ${m.seconds} s with ` +
      `${m.connections} connections, in an order rotated every round; ${m.algorithm} tokens and proofs. ` +
      `Versions: ${Object.entries(m.versions)
        .map(([name, version]) => `${name} ${version}`)
        .join(', ')}.`,
    '',
  ];
  for (const [framework, { contenders }] of Object.entries(m.frameworks)) {
    lines.push(
      `#### ${framework}`,
      '',
      table(
        [
          'route guarded by',
          'requests/s (median)',
          '× unguarded requests/s (range)',
          'p99',
          '× unguarded p99 (range)',
        ],
        contenders.map((row) => [
          row.name,
          row.rate.median.toFixed(0),
          `**${row.rateRatio.median.toFixed(2)}** (${range(row.rateRatio.range)})`,
          `${row.p99Ms.median.toFixed(1)} ms`,
          `**${row.p99Ratio.median.toFixed(2)}** (${range(row.p99Ratio.range)})`,
        ]),
      ),
      '',
    );
  }
  const replays = Object.entries(m.checks)
    .filter(([, check]) => check.replayedProof !== undefined)
    .map(([label, check]) => `${label}: ${check.replayedProof}`);
  const not401 = Object.entries(m.checks)
    .filter(([, check]) => check.bad !== 401)
    .map(([label, check]) => `${label} (${check.bad})`);
  lines.push(
    ...m.notes.map((note) => `- ${note}`),
    `- The bad request was answered 401${not401.length > 0 ? `, except by ${not401.join(', ')}` : ' by every contender'}.`,
    `- A replayed DPoP proof (the same request sent twice) was answered: ${replays.join('; ')}.`,
  );
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const markdown = await render();
  if (process.argv.includes('--write')) {
    const page = join(root, 'docs', 'benchmarks.md');
    const text = await readFile(page, 'utf8');
    const start = '<!-- bench:results:start -->';
    const end = '<!-- bench:results:end -->';
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from)
      throw new Error(`docs/benchmarks.md lacks the ${start} … ${end} markers`);
    // Formatted as `npm run format:check` expects (tables padded).
    const { format, resolveConfig } = await import('prettier');
    const updated = `${text.slice(0, from + start.length)}\n\n${markdown}\n\n${text.slice(to)}`;
    const options = await resolveConfig(page);
    await writeFile(page, await format(updated, { ...options, filepath: page }));
    console.log('docs/benchmarks.md updated');
  } else {
    console.log(markdown);
  }
}
