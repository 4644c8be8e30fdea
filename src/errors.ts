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

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
