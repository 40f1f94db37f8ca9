import { inspect } from 'node:util';
import {
  AuthError,
  ClientAssertionError,
  NetworkError,
  OAuthError,
  ProtocolError,
  TokenError,
} from '../client.js';
import { didYouMean, looksLikeOption, UsageError, type Command } from './command.js';
import { decodeCommand } from './commands/decode.js';
import { devIdpCommand } from './commands/dev-idp.js';
import { dpopProofCommand } from './commands/dpop-proof.js';
import { exchangeCommand } from './commands/exchange.js';
import { introspectCommand } from './commands/introspect.js';
import { keygenCommand } from './commands/keygen.js';
import { tokenCommand } from './commands/token.js';
import { verifyCommand } from './commands/verify.js';
import { exitCodeHelp, ExitCode } from './exit-codes.js';
import type { Io } from './io.js';

export const commands: readonly Command[] = [
  tokenCommand,
  exchangeCommand,
  verifyCommand,
  introspectCommand,
  decodeCommand,
  dpopProofCommand,
  keygenCommand,
  devIdpCommand,
];

function topLevelHelp(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return `Usage: s2s-auth <command> [options]

OAuth 2.0 service-to-service authentication from the shell: client-credentials tokens,
token exchange, JWT access-token verification, introspection and DPoP proofs.

Commands:
${commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Options:
  -h, --help     show this help; \`s2s-auth <command> --help\` shows a command's options
  -v, --version  print the version

Secrets (client secrets, tokens, private keys) are read from environment variables,
standard input or files, never from the command line: see \`s2s-auth token --help\`.

${exitCodeHelp}`;
}

/** SDK option checks throw `TypeError`s named after the function: the caller's mistake. */
function isOptionError(error: unknown): error is TypeError {
  return error instanceof TypeError && /^[A-Za-z.]+: /.test(error.message);
}

/** One line for the error, and the exit code it maps to. */
function describe(error: unknown): { line: string; code: ExitCode } {
  if (error instanceof UsageError || isOptionError(error))
    return { line: error.message, code: ExitCode.usage };
  if (error instanceof OAuthError) {
    return {
      line: `the authorization server refused the request: ${error.message}`,
      code: ExitCode.refused,
    };
  }
  if (error instanceof NetworkError) return { line: error.message, code: ExitCode.unavailable };
  if (error instanceof ProtocolError) {
    return {
      line: `the authorization server broke the protocol: ${error.message}`,
      code: ExitCode.unavailable,
    };
  }
  if (error instanceof TokenError) {
    return {
      line: error.message,
      code: error.reason === 'jwks' ? ExitCode.unavailable : ExitCode.rejected,
    };
  }
  // The assertion a file or variable holds is missing, empty, expired or no JWS: the input's fault.
  if (error instanceof ClientAssertionError) return { line: error.message, code: ExitCode.usage };
  if (error instanceof AuthError) return { line: error.message, code: ExitCode.unexpected };
  const message = error instanceof Error ? error.message : String(error);
  return {
    line: `unexpected error: ${message} (run again with --debug for details)`,
    code: ExitCode.unexpected,
  };
}

/**
 * Runs the CLI on `args` (without `node` and the script) and resolves to the exit code.
 * Never throws: every failure becomes one line on stderr (`--debug` adds the whole error).
 */
export async function run(args: readonly string[], io: Io, version: string): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const named =
      first === 'help' ? commands.find((command) => command.name === rest[0]) : undefined;
    if (first === undefined) {
      io.err(topLevelHelp());
      return ExitCode.usage;
    }
    io.out(named ? named.help : topLevelHelp());
    return ExitCode.success;
  }
  if (first === '-v' || first === '--version') {
    io.out(version);
    return ExitCode.success;
  }
  const command = commands.find((candidate) => candidate.name === first);
  if (!command) {
    // The word is repeated only when it has the shape of an option or a command: the first
    // argument may be a token or a key pasted in the wrong place.
    // A suggestion is made only where the word is shown, since it says something about it.
    const what = first.startsWith('-')
      ? looksLikeOption(first)
        ? `unknown option ${first}${didYouMean(first.replace(/^--?/, ''), ['help', 'version'], (name) => `--${name}`)}`
        : 'unknown option'
      : /^[a-z][a-z0-9-]{0,39}$/.test(first)
        ? `unknown command "${first}"${didYouMean(
            first,
            commands.map((command) => command.name),
            (name) => `"${name}"`,
          )}`
        : 'unknown command';
    io.err(`s2s-auth: ${what} (see \`s2s-auth --help\`)`);
    return ExitCode.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help);
    return ExitCode.success;
  }
  try {
    return await command.run([...rest], io);
  } catch (error) {
    const { line, code } = describe(error);
    io.err(`s2s-auth ${command.name}: ${line}`);
    if (rest.includes('--debug')) io.err(inspect(error, { depth: 6 }));
    return code;
  }
}
