/**
 * The measuring loop every suite shares. Each comparison runs all its contenders in this one
 * process, on the same inputs, in interleaved rounds: round r runs every contender once, in an
 * order rotated by r, so drift (thermal, GC, a noisy neighbour) lands on all of them alike. A
 * contender's time in a round is one batch of operations, one at a time (each awaited before the
 * next starts). The result is the median over the rounds of each contender's speed relative to
 * the baseline in that same round: a ratio, never an absolute time target.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export const mode: 'full' | 'smoke' = process.env.S2S_BENCH_MODE === 'smoke' ? 'smoke' : 'full';
export const smoke = mode === 'smoke';

/** `full` in a full run, `quick` in a smoke run. */
export function size<T>(full: T, quick: T): T {
  return smoke ? quick : full;
}

const collect = (globalThis as { gc?: () => void }).gc;
/** S2S_BENCH_TRACE=1: each batch is announced on stderr (to find a contender that stalls). */
const trace = process.env.S2S_BENCH_TRACE === '1';

/** Something to measure: one operation on input `i` (0 ≤ i < batch). */
export interface Contender {
  name: string;
  run(i: number): unknown;
  /** Checks the result of one operation; a contender that fails it is a broken benchmark. */
  check?(result: unknown, i: number): boolean;
  /** Left out of this comparison, with the reason shown in the table (e.g. unsupported alg). */
  skip?: string;
}

export interface CompareOptions {
  id: string;
  title: string;
  /** The contender whose speed is 1.00. */
  baseline: string;
  contenders: Contender[];
  /** Operations per contender per round. */
  batch: number;
  /** Measured rounds; `warmup` more run first and are dropped. */
  rounds: number;
  warmup: number;
  /** Called before each round (warm-up rounds too), outside the timing: fresh inputs. */
  prepareRound?(round: number): void | Promise<void>;
  notes?: string[];
}

export interface ContenderResult {
  name: string;
  skipped?: string;
  /** Median time per operation, in nanoseconds (for orientation only: the machine is noisy). */
  medianNs?: number;
  /** Median over rounds of (baseline time / contender time) in the same round: > 1 is faster. */
  ratio?: number;
  /** Lowest and highest per-round ratio. */
  ratioRange?: [number, number];
  nsPerRound?: number[];
}

export interface Comparison {
  id: string;
  title: string;
  baseline: string;
  batch: number;
  rounds: number;
  warmup: number;
  notes: string[];
  results: ContenderResult[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One timed batch: the time per operation, and the first and last results, to check after. */
async function runBatch(
  contender: Contender,
  batch: number,
): Promise<{ ns: number; first: unknown; last: unknown }> {
  const start = process.hrtime.bigint();
  let first = contender.run(0);
  let last = first;
  if (first instanceof Promise) {
    first = await first;
    last = first;
    for (let i = 1; i < batch; i++) last = await contender.run(i);
  } else {
    for (let i = 1; i < batch; i++) last = contender.run(i);
  }
  const ns = Number(process.hrtime.bigint() - start) / batch;
  return { ns, first, last };
}

export async function compare(options: CompareOptions): Promise<Comparison> {
  const active = options.contenders.filter((contender) => contender.skip === undefined);
  const times = new Map<string, number[]>(active.map((contender) => [contender.name, []]));
  const total = options.warmup + options.rounds;
  for (let round = 0; round < total; round++) {
    await options.prepareRound?.(round);
    for (let k = 0; k < active.length; k++) {
      const contender = active[(k + round) % active.length]!;
      collect?.();
      if (trace) process.stderr.write(`${options.id} round ${round} ${contender.name}\n`);
      const { ns, first, last } = await runBatch(contender, options.batch);
      if (round >= options.warmup) times.get(contender.name)?.push(ns);
      // Checked after the timing: every round, the first and the last result must be right.
      if (
        contender.check &&
        !(contender.check(first, 0) && contender.check(last, options.batch - 1))
      ) {
        throw new Error(
          `${options.id}: ${contender.name} gave a wrong result: ${JSON.stringify(first)?.slice(0, 120)}`,
        );
      }
    }
  }

  const base = times.get(options.baseline);
  if (base === undefined) throw new Error(`no baseline ${options.baseline} in ${options.id}`);
  const results: ContenderResult[] = options.contenders.map((contender) => {
    if (contender.skip !== undefined) return { name: contender.name, skipped: contender.skip };
    const own = times.get(contender.name)!;
    const ratios = own.map((ns, round) => base[round]! / ns);
    return {
      name: contender.name,
      medianNs: median(own),
      ratio: median(ratios),
      ratioRange: [Math.min(...ratios), Math.max(...ratios)],
      nsPerRound: own.map((ns) => Math.round(ns)),
    };
  });
  const comparison: Comparison = {
    id: options.id,
    title: options.title,
    baseline: options.baseline,
    batch: options.batch,
    rounds: options.rounds,
    warmup: options.warmup,
    notes: options.notes ?? [],
    results,
  };
  printComparison(comparison);
  return comparison;
}

function formatNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

export function printComparison(comparison: Comparison): void {
  console.log(`\n### ${comparison.title}`);
  console.log(
    `baseline = ${comparison.baseline}; ${comparison.rounds} rounds (+${comparison.warmup} warm-up) × ${comparison.batch} operations, one at a time`,
  );
  printTable(
    ['contender', 'ratio (median)', 'ratio range', 'median per op'],
    comparison.results.map((result) =>
      result.skipped !== undefined
        ? [result.name, '—', result.skipped, '—']
        : [
            result.name,
            result.ratio!.toFixed(2),
            `${result.ratioRange![0].toFixed(2)}–${result.ratioRange![1].toFixed(2)}`,
            formatNs(result.medianNs!),
          ],
    ),
  );
  for (const note of comparison.notes) console.log(`note: ${note}`);
}

/** What a suite writes: its comparisons and any other measurements, as JSON. */
export interface SuiteReport {
  suite: string;
  mode: 'full' | 'smoke';
  node: string;
  startedAt: string;
  comparisons: Comparison[];
  measurements: Record<string, unknown>;
}

/** Runs a suite body and writes its report to the file the runner names. */
export async function suite(
  name: string,
  body: (report: SuiteReport) => Promise<void>,
): Promise<void> {
  const report: SuiteReport = {
    suite: name,
    mode,
    node: process.version,
    startedAt: new Date().toISOString(),
    comparisons: [],
    measurements: {},
  };
  console.log(`\n## ${name} (${mode})`);
  await body(report);
  const out = process.env.S2S_BENCH_OUT;
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  }
}

/** Throws when a condition that makes the benchmark meaningful does not hold. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`benchmark invariant broken: ${message}`);
}

/** Fresh, flat copies of a string: what a server gets when the same token arrives in new requests. */
export function freshCopies(text: string, count: number): string[] {
  const copies: string[] = [];
  for (let i = 0; i < count; i++) copies.push(Buffer.from(text, 'latin1').toString('latin1'));
  return copies;
}
