import { throwIfInterrupted } from "../errors.js";
import type { BuildContext, Step } from "./context.js";
import { taskList, type RenderMode } from "./render.js";

/**
 * Runs the steps in order. A skipped step shows its reason; a step that says
 * `done` (e.g. "cached: …") ends the run there; the first failure stops it.
 * Returns the `done` reason when a step ended the run early.
 */
export async function runSteps(steps: readonly Step[], ctx: BuildContext, mode: RenderMode): Promise<string | undefined> {
  let done: string | undefined;
  const list = taskList(
    steps.map((step) => ({
      title: step.title,
      enabled: () => done === undefined,
      task: async (_, task) => {
        throwIfInterrupted(ctx.signal);
        const outcome = await step.run(ctx, (line) => {
          task.output = line;
          ctx.log.line(`[${step.title}] ${line}`);
        });
        throwIfInterrupted(ctx.signal);
        if (!outcome) return;
        if ("done" in outcome) done = outcome.done;
        task.skip("done" in outcome ? outcome.done : outcome.skipped);
      },
    })),
    mode,
    { concurrent: false, exitOnError: true },
  );
  await list.run();
  return done;
}
