import { parseArgs } from 'node:util';
import { closestKey } from '../runtime/shared/options.js';
import type { Io } from './io.js';

/** A wrong command line: reported as one line and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One sub-command of the CLI. */
export interface Command {
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** The whole `--help` text. */
  help: string;
  /** Runs the command on already split arguments; resolves to the exit code. */
  run(args: string[], io: Io): Promise<number>;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
}

/** Parsed options: strings, booleans and, for repeatable options, lists of strings. */
export interface ParsedArgs {
  values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  positionals: string[];
}

/** Options every command takes. */
const common: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
};

/** `node:util` `parseArgs`, strict, with its errors turned into {@link UsageError}s. */
export function parseCommandArgs(
  command: string,
  args: string[],
  options: Record<string, OptionSpec>,
): ParsedArgs {
  const known = { ...common, ...options };
  try {
    const { values, positionals } = parseArgs({
      args,
      options: known,
      strict: true,
      allowPositionals: true,
    });
    return { values, positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Node's own message for an unknown option goes on about positionals; the name is enough.
    const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
    const line =
      unknown === undefined
        ? (message.split('\n')[0] ?? message).replace(/\.$/, '')
        : // Named only when it looks like an option: a pasted secret is not repeated.
          looksLikeOption(unknown)
          ? `unknown option ${unknown}${didYouMean(unknown.replace(/^--?/, ''), Object.keys(known), (name) => `--${name}`)}`
          : 'unknown option';
    throw new UsageError(`${line} (see \`s2s-auth ${command} --help\`)`);
  }
}

/**
 * `; did you mean X?` for the known name `typed` is most likely a typo of (see `closestKey`),
 * shown by `show`; empty when none is close. Only ever call it with a `typed` that is itself
 * safe to repeat: the suggestion says something about it.
 */
export function didYouMean(
  typed: string,
  known: readonly string[],
  show: (name: string) => string,
): string {
  const suggestion = closestKey(typed, known);
  return suggestion === undefined ? '' : `; did you mean ${show(suggestion)}?`;
}

/** `-x`, `--name` or `--some-name`: the shape of an option, not of a key or a token. */
export function looksLikeOption(text: string): boolean {
  return /^--?[A-Za-z][A-Za-z0-9-]{0,39}$/.test(text);
}

export function stringOption(parsed: ParsedArgs, name: string): string | undefined {
  const value = parsed.values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`--${name} takes a value`);
  if (value.length === 0) throw new UsageError(`--${name} must not be empty`);
  return value;
}

export function listOption(parsed: ParsedArgs, name: string): string[] {
  const value = parsed.values[name];
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item !== 'string' || item.length === 0)
      throw new UsageError(`--${name} takes a non-empty value`);
    return item;
  });
}

export function flag(parsed: ParsedArgs, name: string): boolean {
  return parsed.values[name] === true;
}

/** A required option, which may also come from an environment variable. */
export function requiredOption(parsed: ParsedArgs, name: string, io: Io, env?: string): string {
  // An empty environment variable counts as unset.
  const fromEnv = env === undefined || io.env[env] === '' ? undefined : io.env[env];
  const value = stringOption(parsed, name) ?? fromEnv;
  if (value === undefined) {
    throw new UsageError(`--${name} is required${env ? ` (or set ${env})` : ''}`);
  }
  return value;
}

/** A positive integer option, such as a timeout. */
export function integerOption(parsed: ParsedArgs, name: string): number | undefined {
  const text = stringOption(parsed, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number`);
  return Number(text);
}

export function noPositionals(command: string, parsed: ParsedArgs): void {
  if (parsed.positionals.length > 0) {
    throw new UsageError(`\`s2s-auth ${command}\` takes no arguments besides options (see --help)`);
  }
}

/** Pretty JSON, the way every command prints it. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
