/** Where a command reads and writes: the process in production, a double in unit tests. */
export interface Io {
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
  /** All of standard input, as text. Read at most once per run. */
  readStdin(): Promise<string>;
  /** Reads a file as UTF-8 text. */
  readFile(path: string): Promise<string>;
  /** Whether `path` names a regular file (following symbolic links); `false` on any error. */
  isFile(path: string): Promise<boolean>;
  /**
   * Creates a file readable by its owner only (mode 600) holding `text`; fails if the file
   * exists, so a key is never overwritten by accident.
   */
  writePrivateFile(path: string, text: string): Promise<void>;
  /** Resolves when the process is asked to stop (SIGINT or SIGTERM). */
  untilInterrupted(): Promise<void>;
  /** Writes a line to standard output. */
  out(line: string): void;
  /** Writes a line to standard error. */
  err(line: string): void;
  /** The clock relative times are shown on. */
  now(): Date;
}
