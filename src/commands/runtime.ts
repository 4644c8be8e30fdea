/** What command actions need from the process: output channels and the interrupt signal. */
export interface CommandRuntime {
  signal: AbortSignal;
  /** The result, on stdout (scripts read it). */
  print(line: string): void;
  printJson(value: unknown): void;
  /** Progress and warnings, on stderr. */
  progress(line: string): void;
  warn(line: string): void;
}
