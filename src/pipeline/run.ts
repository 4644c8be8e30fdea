import { Listr, PRESET_TIMER, PRESET_TIMESTAMP } from "listr2";
import { InterruptedError } from "../errors.js";
import type { BuildContext, Step } from "./context.js";

/** tty: animated task list; plain: timestamped lines (CI, pipes, DEBUG); silent: nothing (--json). */
export type RenderMode = "tty" | "plain" | "silent";

export function renderMode(json: boolean): RenderMode {
  if (json) return "silent";
  return process.stdout.isTTY && !process.env.CI && !process.env.DEBUG ? "tty" : "plain";
}

/** Runs the steps in order; a skipped step shows its reason, the first failure stops the run. */
export async function runSteps(steps: readonly Step[], ctx: BuildContext, mode: RenderMode): Promise<void> {
  const checkAbort = () => {
    if (ctx.signal.aborted) throw new InterruptedError(String(ctx.signal.reason ?? "signal"));
  };
  const list = new Listr(
    steps.map((step) => ({
      title: step.title,
      task: async (_: unknown, task: { output: string; skip: (reason: string) => void }) => {
        checkAbort();
        const outcome = await step.run(ctx, (line) => {
          task.output = line;
          ctx.log.line(`[${step.title}] ${line}`);
        });
        checkAbort();
        if (outcome?.skipped) task.skip(outcome.skipped);
      },
    })),
    {
      concurrent: false,
      // Our own handler stops the build and removes its container; listr2 would exit at once.
      registerSignalListeners: false,
      exitOnError: true,
      renderer: mode === "tty" ? "default" : mode === "plain" ? "simple" : "silent",
      rendererOptions: mode === "tty" ? { timer: PRESET_TIMER, showSkipMessage: true } : { timestamp: PRESET_TIMESTAMP },
    } as never,
  );
  await list.run();
}
