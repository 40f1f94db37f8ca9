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
  PATH        a file, named by a path with a / or a . in it (./secret, token.txt)
  file:PATH   any file, also one named by a bare word (file:secret)
  -           standard input
  env:NAME    the environment variable NAME
One trailing newline of a file or of standard input is dropped.`;

/** Environment variables the CLI reads. */
export const environment = {
  issuer: 'S2S_AUTH_ISSUER',
  clientId: 'S2S_AUTH_CLIENT_ID',
  clientSecret: 'S2S_AUTH_CLIENT_SECRET',
  privateKey: 'S2S_AUTH_PRIVATE_KEY',
  token: 'S2S_AUTH_TOKEN',
} as const;

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Where a command's token comes from: a source argument, none (`S2S_AUTH_TOKEN`), or the token. */
export type TokenSource = string | undefined | { token: string };

/** What a source argument names; see `Inputs.classify`. */
type NamedSource =
  | { kind: 'stdin' }
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string }
  /** A bare word that is also the name of a file here: not read (see `classify`). */
  | { kind: 'bare-file' }
  /** A token or a JSON document: the value itself, not where to find it. */
  | { kind: 'value' }
  /** Any other bare word: a secret typed in, or a file name without `file:`. */
  | { kind: 'word' };

/** Reads secrets and keys for one run; standard input can be read only once. */
export class Inputs {
  #stdinTakenBy: string | undefined;

  constructor(private readonly io: Io) {}

  /**
   * The secret named by `source` (a file path, `-`, `env:NAME` or `file:PATH`), or the
   * `defaultEnv` variable when there is no source. `what` names it in messages, which never
   * hold its value.
   */
  async secret(source: string | undefined, what: string, defaultEnv?: string): Promise<string> {
    return (await this.secretAndFile(source, what, defaultEnv)).value;
  }

  /**
   * As {@link secret}, with the path of the file it was read from when the source names one: a
   * caller that must read the file again later (a client assertion the platform rotates in
   * place) reads that path, never a second guess at what the argument meant.
   */
  async secretAndFile(
    source: string | undefined,
    what: string,
    defaultEnv?: string,
  ): Promise<{ value: string; path?: string }> {
    if (source === undefined) {
      const value = defaultEnv === undefined ? undefined : this.io.env[defaultEnv];
      if (!value) {
        throw new UsageError(
          `${what} is required${defaultEnv ? `: set ${defaultEnv}, or` : ':'} name a source (a file path, -, env:NAME or file:PATH)`,
        );
      }
      return { value };
    }
    const named = await this.classify(source);
    switch (named.kind) {
      case 'stdin':
        return { value: stripNewline(await this.stdin(what)) };
      case 'env':
        return { value: this.env(named.name, what) };
      case 'file':
        return { value: stripNewline(await this.file(named.path, what)), path: named.path };
      case 'bare-file':
        throw bareWordFile(what);
      case 'value':
      case 'word':
        throw literalSecret(what);
    }
  }

  /**
   * A token: as {@link secret}, surrounding whitespace dropped. A {@link TokenSource} holding
   * the token itself (`decode` takes one) is used as it is.
   */
  async token(source: TokenSource, what = 'the token'): Promise<string> {
    const token = (
      typeof source === 'object' ? source.token : await this.secret(source, what, environment.token)
    ).trim();
    if (!token) throw new UsageError(`${what} is empty`);
    return token;
  }

  /**
   * The token argument of a token-taking command: the `[source]` positional, `--token-stdin`, or
   * nothing (then `S2S_AUTH_TOKEN`). Checked before anything is read, so a pasted token is
   * refused whatever else is wrong with the line. With `acceptToken` (for `decode`, which
   * verifies nothing and sends nothing anywhere) a JWT given on the command line is taken, with
   * a warning on stderr that the shell keeps it.
   */
  async tokenSource(
    parsed: ParsedArgs,
    command: string,
    { acceptToken = false } = {},
  ): Promise<TokenSource> {
    if (parsed.positionals.length > 1)
      throw new UsageError(`\`s2s-auth ${command}\` takes one token source (see --help)`);
    const positional = parsed.positionals[0];
    if (parsed.values['token-stdin'] === true) {
      if (positional !== undefined && positional !== '-')
        throw new UsageError('--token-stdin and a token source cannot be combined');
      return '-';
    }
    if (positional === undefined) return undefined;
    const named = await this.classify(positional);
    switch (named.kind) {
      case 'stdin':
      case 'env':
      case 'file':
        return positional;
      case 'bare-file':
        throw bareWordFile('the token');
      case 'value':
        if (!acceptToken) throw literalSecret('the token');
        this.io.err(
          `s2s-auth ${command}: warning: a token given on the command line stays in shell history and process lists; read it from -, env:NAME or a file instead`,
        );
        return { token: positional };
      case 'word':
        if (!acceptToken) throw literalSecret('the token');
        throw new UsageError(
          'the token is neither a JWT nor a file path: name a file, -, env:NAME or file:PATH',
        );
    }
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
      // A key is JSON, never a bare word: any other argument here is the name of a file.
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
    return parsed;
  }

  /**
   * What a source argument names. Besides `-`, `env:` and `file:`, a path with a `/` or a `.`
   * in it names a file. A bare word never does, even when a file of that name is in the working
   * directory: a secret typed where its source belongs would otherwise be taken for a file name,
   * and that file's content sent on as the secret. A token or a JSON document is the value
   * itself, unless a file of that name exists.
   */
  private async classify(argument: string): Promise<NamedSource> {
    if (argument === '-') return { kind: 'stdin' };
    if (argument.startsWith('env:')) return { kind: 'env', name: argument.slice(4) };
    if (argument.startsWith('file:')) return { kind: 'file', path: argument.slice(5) };
    const pathLike = /[/\\.]/.test(argument);
    if (pathLike && (await this.io.isFile(argument))) return { kind: 'file', path: argument };
    if (looksInline(argument) || looksLikeJwt(argument)) return { kind: 'value' };
    if (pathLike) return { kind: 'file', path: argument };
    return (await this.io.isFile(argument)) ? { kind: 'bare-file' } : { kind: 'word' };
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

/** A compact JWS (three parts) or JWE (five parts): a token given where its source belongs. */
function looksLikeJwt(text: string): boolean {
  return /^[\w-]+(?:\.[\w-]*){2}(?:(?:\.[\w-]*){2})?$/.test(text);
}

function inlineKey(what: string): UsageError {
  return new UsageError(
    `${what} looks like a key given on the command line, where it would leak into shell history and process lists: name a file, -, env:NAME or file:PATH instead`,
  );
}

function literalSecret(what: string): UsageError {
  return new UsageError(
    `${what} must name a source (a file path, -, env:NAME or file:PATH), not be given on the command line, where it would leak into shell history and process lists`,
  );
}

/** A bare word naming a file here: said without the word, which may be a secret. */
function bareWordFile(what: string): UsageError {
  return new UsageError(
    `${what}: to read the file of that name, write file: before it (a word without / or . is never taken for a file name, so a secret typed there is not read as one)`,
  );
}

/** The public half of a private JWK. */
export function publicPart(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk };
  for (const member of privateMembers) delete copy[member];
  return copy;
}

function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
