/**
 * The `s2s-auth` command. Built into `dist/cli.js` next to the library entry points, which it
 * imports instead of bundling a second copy of them.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { run } from './run.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

process.exitCode = await run(
  process.argv.slice(2),
  {
    env: process.env,
    readStdin,
    readFile: (path) => readFile(path, 'utf8'),
    isFile: (path) =>
      stat(path).then(
        (stats) => stats.isFile(),
        () => false,
      ),
    writePrivateFile: (path, text) => writeFile(path, text, { mode: 0o600, flag: 'wx' }),
    untilInterrupted: () =>
      new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    now: () => new Date(),
  },
  version,
);
