/** Where a command reads and writes: the process in production, a double in unit tests. */
export interface Io {
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
  /** All of standard input, as text. Read at most once per run. */
  readStdin(): Promise<string>;
  /** Reads a file as UTF-8 text. */
  readFile(path: string): Promise<string>;
  /** Writes a line to standard output. */
  out(line: string): void;
  /** Writes a line to standard error. */
  err(line: string): void;
  /** The clock relative times are shown on. */
  now(): Date;
}
