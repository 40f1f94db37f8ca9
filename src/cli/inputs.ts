import type { JWK } from 'jose';
import { UsageError, type ParsedArgs } from './command.js';
import type { Io } from './io.js';

/**
 * Secrets never travel as command-line values: the shell history and every process listing
 * would show them. An option that takes a secret names where to read it from instead, like
 * OpenSSL's `-passin`.
 */
export const secretSourceHelp = `Secrets (client secrets, tokens, private keys) are never taken from the command line.
Options and arguments that take one name where to read it from:
  -           standard input
  env:NAME    the environment variable NAME
  file:PATH   the file PATH (one trailing newline is dropped)`;

/** Environment variables the CLI reads. */
export const environment = {
  issuer: 'S2S_AUTH_ISSUER',
  clientId: 'S2S_AUTH_CLIENT_ID',
  clientSecret: 'S2S_AUTH_CLIENT_SECRET',
  privateKey: 'S2S_AUTH_PRIVATE_KEY',
  token: 'S2S_AUTH_TOKEN',
} as const;

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Reads secrets and keys for one run; standard input can be read only once. */
export class Inputs {
  #stdinTakenBy: string | undefined;

  constructor(private readonly io: Io) {}

  /**
   * The secret named by `source` (`-`, `env:NAME` or `file:PATH`), or the `defaultEnv`
   * variable when there is no source. `what` names it in messages, which never hold its value.
   */
  async secret(source: string | undefined, what: string, defaultEnv?: string): Promise<string> {
    if (source === undefined) {
      const value = defaultEnv === undefined ? undefined : this.io.env[defaultEnv];
      if (!value) {
        throw new UsageError(
          `${what} is required${defaultEnv ? `: set ${defaultEnv}, or` : ':'} name a source (-, env:NAME or file:PATH)`,
        );
      }
      return value;
    }
    if (source === '-') return stripNewline(await this.stdin(what));
    if (source.startsWith('env:')) return this.env(source.slice(4), what);
    if (source.startsWith('file:')) return stripNewline(await this.file(source.slice(5), what));
    throw literalSecret(what);
  }

  /** A token: as {@link secret}, surrounding whitespace dropped. */
  async token(source: string | undefined, what = 'the token'): Promise<string> {
    const token = (await this.secret(source, what, environment.token)).trim();
    if (!token) throw new UsageError(`${what} is empty`);
    return token;
  }

  /**
   * A JWK from a file path, `-`, `env:NAME` or `file:PATH`: one JWK, or a JWK Set holding
   * exactly one key. With `requirePrivate`, it must carry its private members.
   */
  async jwk(source: string, what: string, { requirePrivate = true } = {}): Promise<JWK> {
    let text: string;
    if (source === '-') text = await this.stdin(what);
    else if (source.startsWith('env:')) text = this.env(source.slice(4), what);
    else {
      const path = source.startsWith('file:') ? source.slice(5) : source;
      if (looksInline(path)) throw inlineKey(what);
      text = await this.file(path, what);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // JSON.parse quotes the text around the error: that may be key material, so say less.
      throw new UsageError(`${what} is not JSON (expected a JWK)`);
    }
    if (isObject(parsed) && Array.isArray(parsed.keys)) {
      if (parsed.keys.length !== 1)
        throw new UsageError(`${what} is a JWK Set with ${parsed.keys.length} keys; expected one`);
      parsed = parsed.keys[0];
    }
    if (!isObject(parsed) || typeof parsed.kty !== 'string')
      throw new UsageError(`${what} is not a JWK (no "kty")`);
    if (requirePrivate && typeof parsed.d !== 'string')
      throw new UsageError(`${what} is not a private key (no "d")`);
    return parsed as JWK;
  }

  private async stdin(what: string): Promise<string> {
    if (this.#stdinTakenBy !== undefined) {
      throw new UsageError(
        `${what} and ${this.#stdinTakenBy} cannot both come from standard input`,
      );
    }
    this.#stdinTakenBy = what;
    return this.io.readStdin();
  }

  /**
   * The value of an environment variable. The name is not repeated in the message: what follows
   * `env:` may be a secret typed in the wrong place.
   */
  private env(name: string, what: string): string {
    const value = name ? this.io.env[name] : undefined;
    if (!value) {
      throw new UsageError(
        name
          ? `${what}: the environment variable named after env: is not set or empty`
          : `${what}: no environment variable named after env:`,
      );
    }
    return value;
  }

  /**
   * A file's text. The path is not repeated in the message: an argument where a path belongs
   * may be a key or a secret pasted there, and stderr ends up in logs and CI output.
   */
  private async file(path: string, what: string): Promise<string> {
    if (!path) throw new UsageError(`${what}: no file named`);
    try {
      return await this.io.readFile(path);
    } catch (error) {
      const code =
        isObject(error) && typeof error.code === 'string' && /^E[A-Z]+$/.test(error.code)
          ? ` (${error.code})`
          : '';
      throw new UsageError(`${what}: cannot read the file named on the command line${code}`);
    }
  }
}

/** A JSON object or array, or a compact JWS/JWT, where a file path was expected. */
function looksInline(path: string): boolean {
  const start = path.trimStart();
  return start.startsWith('{') || start.startsWith('[') || /^eyJ[\w-]*\.[\w-]*\./.test(start);
}

function inlineKey(what: string): UsageError {
  return new UsageError(
    `${what} looks like a key given on the command line, where it would leak into shell history and process lists: name a file, -, env:NAME or file:PATH instead`,
  );
}

function literalSecret(what: string): UsageError {
  return new UsageError(
    `${what} must name a source (-, env:NAME or file:PATH), not be given on the command line, where it would leak into shell history and process lists`,
  );
}

function isSource(value: string): boolean {
  return value === '-' || value.startsWith('env:') || value.startsWith('file:');
}

/** The token source of a token-taking command: `[source]` positional, `--token-stdin`, or `S2S_AUTH_TOKEN`. */
export function tokenSource(parsed: ParsedArgs, command: string): string | undefined {
  if (parsed.positionals.length > 1)
    throw new UsageError(`\`s2s-auth ${command}\` takes one token source (see --help)`);
  const positional = parsed.positionals[0];
  if (parsed.values['token-stdin'] === true) {
    if (positional !== undefined && positional !== '-')
      throw new UsageError('--token-stdin and a token source cannot be combined');
    return '-';
  }
  // Checked before anything is read, so a pasted token is refused whatever else is wrong.
  if (positional !== undefined && !isSource(positional)) throw literalSecret('the token');
  return positional;
}

/** The public half of a private JWK. */
export function publicPart(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk };
  for (const member of privateMembers) delete copy[member];
  return copy as JWK;
}

function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
