/**
 * The CLI's exit codes. Scripts branch on them, so they are part of its interface: change
 * one only with a major version.
 */
export const ExitCode = {
  /** The command did what it was asked. */
  success: 0,
  /** The token is not accepted: verification failed, introspection says inactive, or not a JWT. */
  rejected: 1,
  /** The command line is wrong: unknown command or option, missing or unreadable input. */
  usage: 2,
  /** The authorization server refused the request (an OAuth error such as `invalid_client`). */
  refused: 3,
  /** The authorization server could not be reached, or answered outside the protocol. */
  unavailable: 4,
  /** Something failed that none of the above covers: a bug worth reporting. */
  unexpected: 5,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit-code table every `--help` ends with. */
export const exitCodeHelp = `Exit codes:
  0  success
  1  token rejected: verification failed, introspection says inactive, or not a JWT
  2  usage error: unknown command or option, missing or unreadable input
  3  the authorization server refused the request (e.g. invalid_client, invalid_scope)
  4  the authorization server (or its JWKS) could not be reached or broke the protocol
  5  unexpected error (run again with --debug for details)`;
