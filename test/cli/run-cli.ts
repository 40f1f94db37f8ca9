/**
 * Runs the built `s2s-auth` command (`node dist/cli.js`) as a child process, the way a shell
 * would: arguments, environment and standard input in; exit code, stdout and stderr out.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
export const cliPath = join(root, 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Variables on top of a clean environment (no inherited `S2S_AUTH_*`). */
  env?: Record<string, string>;
  /** Written to standard input, which is then closed. */
  stdin?: string;
  /** The working directory of the command (default: this one's). */
  cwd?: string;
}

export function assertBuilt(): void {
  if (!existsSync(cliPath)) throw new Error('dist/cli.js is missing: run `npm run build` first');
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('S2S_AUTH_')) env[name] = value;
  }
  Object.assign(env, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** Neither output stream holds any of `secrets`, whole or in their form-encoded shape. */
export function expectNoSecrets(result: CliResult, secrets: readonly string[]): void {
  for (const secret of secrets) {
    const shapes = [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ v: secret }).toString().slice(2),
    ];
    for (const shape of shapes) {
      expect(result.stdout).not.toContain(shape);
      expect(result.stderr).not.toContain(shape);
    }
  }
}

/** A temporary directory for key files, removed by the returned function. */
export async function tempDir(): Promise<{
  dir: string;
  write(name: string, content: string): Promise<string>;
  remove(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 's2s-auth-cli-'));
  return {
    dir,
    async write(name, content) {
      const path = join(dir, name);
      await writeFile(path, content, { mode: 0o600 });
      return path;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
