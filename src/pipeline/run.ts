import { throwIfInterrupted } from "../errors.js";
import type { BuildContext, Step, StepOutcome } from "./context.js";
import { taskList, type RenderMode } from "./render.js";

async function runStep(step: Step, ctx: BuildContext, show: (line: string) => void): Promise<StepOutcome> {
  throwIfInterrupted(ctx.signal);
  const outcome = await step.run(ctx, (line) => {
    show(line);
    ctx.log.line(`[${step.title}] ${line}`);
  });
  throwIfInterrupted(ctx.signal);
  return outcome;
}

/** Consecutive steps that render the same way: quiet ones run unseen, the others as one task list. */
function groups(steps: readonly Step[]): Step[][] {
  const out: Step[][] = [];
  for (const step of steps) {
    const last = out.at(-1);
    if (last && Boolean(last[0]!.quiet) === Boolean(step.quiet)) last.push(step);
    else out.push([step]);
  }
  return out;
}

/**
 * Runs the steps in order. A skipped step shows its reason; a step that says
 * `done` (e.g. "cached: …") ends the run there; the first failure stops it.
 * Quiet steps (input checks) show nothing, so a refusal is the one line the
 * top level prints. Returns the `done` reason when a step ended the run early.
 */
export async function runSteps(steps: readonly Step[], ctx: BuildContext, mode: RenderMode): Promise<string | undefined> {
  let done: string | undefined;
  const settle = (outcome: StepOutcome) => {
    if (outcome && "done" in outcome) done = outcome.done;
    return outcome && ("done" in outcome ? outcome.done : outcome.skipped);
  };
  for (const group of groups(steps)) {
    if (done !== undefined) break;
    if (group[0]!.quiet) {
      for (const step of group) if (done === undefined) settle(await runStep(step, ctx, () => undefined));
      continue;
    }
    const list = taskList(
      group.map((step) => ({
        title: step.title,
        enabled: () => done === undefined,
        task: async (_, task) => {
          const shown = settle(await runStep(step, ctx, (line) => (task.output = line)));
          if (shown) task.skip(shown);
        },
      })),
      mode,
      { concurrent: false, exitOnError: true },
    );
    await list.run();
  }
  return done;
}
