import { constants } from "node:os";

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

/**
 * Aborted by the process's first SIGINT or SIGTERM (cli.ts), its reason the
 * signal's name: whatever runs long (Docker requests, clones, waits for a
 * lock) listens to it, so the first Ctrl-C always stops the run.
 */
export const interruption = new AbortController();

/** Raised when the run was interrupted (Ctrl-C, SIGTERM); exits like a shell: 130, 143. */
export class InterruptedError extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}: nothing was written`);
    this.name = "InterruptedError";
  }
}

/** A shell's exit status for a process ended by `signal`: 128 + its number (SIGINT 130, SIGTERM 143). */
export function interruptedExitCode(signal: string): number {
  const n = (constants.signals as Record<string, number | undefined>)[signal];
  return n ? 128 + n : 130;
}

/**
 * Rejects with InterruptedError when the first of `signals` is aborted (never,
 * for none); `off` stops listening.
 */
export function onAbort(signals: Array<AbortSignal | undefined>): { promise: Promise<never>; off: () => void } {
  const offs: Array<() => void> = [];
  const promise = new Promise<never>((_, reject) => {
    for (const signal of signals) {
      if (!signal) continue;
      const stop = () => reject(new InterruptedError(String(signal.reason ?? "signal")));
      if (signal.aborted) return stop();
      signal.addEventListener("abort", stop, { once: true });
      offs.push(() => signal.removeEventListener("abort", stop));
    }
  });
  promise.catch(() => undefined);
  return { promise, off: () => offs.forEach((off) => off()) };
}

/** Stops a run the user interrupted, as the one error the top level reports (exit 130, or 143 for SIGTERM). */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError(String(signal.reason ?? "signal"));
}

/** A system call's failure (ENOSPC, EROFS …): its code and its text without the paths ("ENOSPC: no space left on device"). */
export function osFailure(err: unknown): { code: string; text: string } | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (!(err instanceof Error) || typeof code !== "string" || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  return { code, text: err.message.split(",")[0]! };
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
