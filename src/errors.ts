/**
 * A failure the user can act on: printed as one line (cause and fix), never a
 * stack trace. `exitCode` 2 marks usage errors (bad flags, versions, inputs).
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = "UserError";
  }
}

export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

/**
 * A command that printed its full result (verify, doctor) and now only has to
 * exit non-zero: with --json nothing more is printed, so stdout stays one object.
 */
export class ReportedFailure extends UserError {}

/** Raised when the run was interrupted (Ctrl-C, SIGTERM); exit code 130 like a shell. */
export class InterruptedError extends Error {
  constructor(signal: string) {
    super(`interrupted by ${signal}: nothing was written`);
    this.name = "InterruptedError";
  }
}

/** Stops a run the user interrupted, as the one error the top level reports with exit 130. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError(String(signal.reason ?? "signal"));
}

/**
 * A file-system or Docker failure that reached the top level: its own message
 * already names the cause (ENOSPC, EACCES, HTTP 500 …) and, for files, the
 * path. Returned as one line; undefined for anything else (a bug: stack trace).
 */
export function systemFailure(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException & { statusCode?: number; cause?: unknown };
  if (!(e instanceof Error)) return undefined;
  const line = e.message.split("\n")[0]!;
  if (typeof e.code === "string" && /^E[A-Z0-9]+$/.test(e.code)) return line;
  if (typeof e.statusCode === "number") return `the Docker engine answered: ${line}`;
  return e.cause ? systemFailure(e.cause) && line : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
