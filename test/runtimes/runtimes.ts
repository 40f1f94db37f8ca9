/**
 * The runtime matrix: which runtimes run the conformance suite, how each is started, and how
 * its output is read.
 *
 * Node 20 is the Node running the tests; Node 22, Node 24, Bun, Deno and workerd come from the
 * pinned package in runtimes/ (see scripts/runtimes-install.mjs). Node, Bun and
 * Deno run `run.mjs` as a child process; workerd runs `worker.mjs`, bundled by esbuild, under
 * miniflare in this process. Every one of them reaches only 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { ConformanceConfig } from './harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const here = join(root, 'test', 'runtimes');
const suiteRunner = join(here, 'run.mjs');
const binaries = join(root, 'runtimes', 'node_modules');

/** What the install script found: a command and its version, or why there is none. */
interface Located {
  command?: string;
  version?: string;
  error?: string;
}

export interface Installation {
  installError?: string;
  runtimes: Record<string, Located>;
  miniflare?: string;
}

/** One row of the matrix. */
export interface RuntimeResult {
  id: string;
  label: string;
  version: string;
  /** `passed`: the suite ran and every check passed; `failed`: some did not; `error`: no result. */
  outcome: 'passed' | 'failed' | 'error';
  passed: number;
  failed: number;
  milliseconds: number;
  /** Everything the runtime printed (stdout, then stderr), or why it could not run. */
  output: string;
}

interface Runtime {
  id: string;
  label: string;
  /** Whether the runtime has `node:fs`, so `assertionFromFile` can read (workerd has none). */
  fileSystem: boolean;
  /** Whether the client's `tls` option can present a certificate (Node only, through undici). */
  clientCertificates: boolean;
  run(config: ConformanceConfig, installation: Installation): Promise<RawRun>;
  version(installation: Installation): string;
}

interface RawRun {
  exitCode: number | null;
  output: string;
}

const TIMEOUT_MS = 60_000;

/** A child process's environment: nothing of the caller's but PATH and HOME. */
function childEnvironment(config: ConformanceConfig): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    S2S_CONFORMANCE: JSON.stringify(config),
    NO_COLOR: '1',
    // Bun and Deno: no crash reports, update checks, prompts or caches outside node_modules.
    DO_NOT_TRACK: '1',
    BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0',
    DENO_NO_UPDATE_CHECK: '1',
    DENO_NO_PROMPT: '1',
    DENO_DIR: join(binaries, '.deno-dir'),
  };
}

function runProcess(command: string, args: string[], config: ConformanceConfig): Promise<RawRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: childEnvironment(config),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${TIMEOUT_MS / 1000} s)`;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ exitCode: null, output: `${stdout}${stderr}${error.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, output: stderr ? `${stdout}${stderr}` : stdout });
    });
  });
}

function pinned(id: string, args: (config: ConformanceConfig) => string[]): Runtime['run'] {
  return async (config, installation) => {
    const located = installation.runtimes[id];
    if (!located?.command || located.error) {
      return {
        exitCode: null,
        output: `not available: ${located?.error ?? installation.installError ?? 'not installed'}`,
      };
    }
    return runProcess(located.command, args(config), config);
  };
}

/** The esbuild bundle of worker.mjs: the suite, dist/ and its dependencies in one module. */
async function bundleWorker(): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'worker.mjs')],
    bundle: true,
    format: 'esm',
    // No nodejs_compat in the worker and a browser platform here: a `node:` import anywhere
    // in dist/ fails the bundle, as it would fail a real Workers deploy.
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error('esbuild produced no output');
  return file.text;
}

interface MiniflareInstance {
  dispatchFetch(url: string): Promise<{ status: number; text(): Promise<string> }>;
  dispose(): Promise<void>;
}

async function runWorkerd(config: ConformanceConfig, installation: Installation): Promise<RawRun> {
  const located = installation.runtimes.workerd;
  if (!installation.miniflare || !located?.command || located.error) {
    return {
      exitCode: null,
      output: `not available: ${located?.error ?? installation.installError ?? 'miniflare is not installed'}`,
    };
  }
  let script: string;
  try {
    script = await bundleWorker();
  } catch (error) {
    return { exitCode: null, output: `esbuild could not bundle the worker: ${String(error)}` };
  }
  const { Miniflare } = (await import(pathToFileURL(installation.miniflare).href)) as {
    Miniflare: new (options: Record<string, unknown>) => MiniflareInstance;
  };
  let stdio = '';
  const miniflare = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2026-04-26',
    bindings: { S2S_CONFORMANCE: JSON.stringify(config) },
    // The worker's fetch() may reach loopback only ("local": 127.0.0.0/8), nothing else.
    outboundService: { network: { allow: ['local'], deny: [] } },
    // Without this, miniflare fetches a `request.cf` sample from the internet.
    cf: false,
    host: '127.0.0.1',
    // workerd's own stdout and stderr (uncaught errors, console output) go into the report.
    handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
      stdout.setEncoding('utf8');
      stderr.setEncoding('utf8');
      stdout.on('data', (chunk: string) => (stdio += chunk));
      stderr.on('data', (chunk: string) => (stdio += chunk));
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const response = await Promise.race([
      miniflare.dispatchFetch('http://127.0.0.1/conformance'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer after ${TIMEOUT_MS / 1000} s`)),
          TIMEOUT_MS,
        );
      }),
    ]);
    const output = await response.text();
    return { exitCode: response.status === 200 ? 0 : 1, output: `${output}${stdio}` };
  } catch (error) {
    return { exitCode: null, output: `workerd run failed: ${String(error)}\n${stdio}` };
  } finally {
    clearTimeout(timer);
    await miniflare.dispose();
  }
}

const machineNodeMajor = process.versions.node.split('.')[0];

/** Every runtime of the matrix, in the order of the table. */
export const RUNTIMES: Runtime[] = [
  {
    id: 'node',
    label: machineNodeMajor === '20' ? 'Node 20' : `Node ${machineNodeMajor} (machine)`,
    fileSystem: true,
    clientCertificates: true,
    version: () => process.version,
    run: (config) => runProcess(process.execPath, [suiteRunner], config),
  },
  {
    id: 'node22',
    label: 'Node 22',
    fileSystem: true,
    clientCertificates: true,
    version: (installation) => installation.runtimes.node22?.version ?? '—',
    run: pinned('node22', () => [suiteRunner]),
  },
  {
    id: 'node24',
    label: 'Node 24',
    fileSystem: true,
    clientCertificates: true,
    version: (installation) => installation.runtimes.node24?.version ?? '—',
    run: pinned('node24', () => [suiteRunner]),
  },
  {
    id: 'bun',
    label: 'Bun',
    fileSystem: true,
    clientCertificates: false,
    version: (installation) => installation.runtimes.bun?.version ?? '—',
    run: pinned('bun', () => ['--no-install', suiteRunner]),
  },
  {
    id: 'deno',
    label: 'Deno',
    fileSystem: true,
    clientCertificates: false,
    version: (installation) =>
      (installation.runtimes.deno?.version ?? '—').split(' ').slice(0, 2).join(' '),
    run: pinned('deno', (config) => [
      'run',
      '--no-prompt',
      '--allow-env=S2S_CONFORMANCE',
      '--allow-net=127.0.0.1',
      `--allow-read=${config.workloadTokenFile}`,
      suiteRunner,
    ]),
  },
  {
    id: 'workerd',
    label: 'workerd (miniflare)',
    fileSystem: false,
    clientCertificates: false,
    version: (installation) => installation.runtimes.workerd?.version ?? '—',
    run: runWorkerd,
  },
];

const SUMMARY = /^(\d+) passed, (\d+) failed$/;

/** Runs one runtime against its own harness config and reads its summary line. */
export async function runRuntime(
  runtime: Runtime,
  config: ConformanceConfig,
  installation: Installation,
): Promise<RuntimeResult> {
  const started = performance.now();
  const raw = await runtime.run(config, installation);
  const milliseconds = Math.round(performance.now() - started);
  const summary = raw.output
    .trim()
    .split('\n')
    .map((line) => SUMMARY.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .pop();
  const passed = summary ? Number(summary[1]) : 0;
  const failed = summary ? Number(summary[2]) : 0;
  const outcome =
    summary === undefined ? 'error' : failed === 0 && raw.exitCode === 0 ? 'passed' : 'failed';
  return {
    id: runtime.id,
    label: runtime.label,
    version: runtime.version(installation),
    outcome,
    passed,
    failed,
    milliseconds,
    output: raw.output,
  };
}

/** The matrix as a Markdown table. */
export function formatMatrix(results: RuntimeResult[]): string {
  const rows = results.map((result) => [
    result.label,
    result.version,
    result.outcome === 'error' ? 'ERROR' : result.outcome === 'passed' ? 'pass' : 'FAIL',
    String(result.passed),
    String(result.failed),
    `${(result.milliseconds / 1000).toFixed(1)} s`,
    note(result),
  ]);
  const header = ['runtime', 'version', 'result', 'checks ok', 'checks failed', 'time', 'note'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

/** Why a row is not green, in a few words: the failed checks, or the first line of the error. */
function note(result: RuntimeResult): string {
  if (result.outcome === 'passed') return '';
  const lines = result.output.trim().split('\n');
  const failedChecks = lines.flatMap((line) => /^not ok (\d+) /.exec(line)?.[1] ?? []);
  if (result.outcome === 'failed' && failedChecks.length > 0)
    return `failed checks ${failedChecks.join(', ')}`;
  const first = lines.find((line) => line.trim() !== '') ?? 'no output';
  return first.length > 100 ? `${first.slice(0, 99)}…` : first;
}
