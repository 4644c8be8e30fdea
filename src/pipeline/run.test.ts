import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { buildContext } from "../../test/unit/build-fixtures.js";
import { InterruptedError, UserError } from "../errors.js";
import type { BuildContext, Step, StepOutcome } from "./context.js";
import { runSteps } from "./run.js";

/** Steps that record their titles in `ran` when they run, each ending with the given outcome (or throwing it). */
function recordingSteps(outcomes: Array<StepOutcome | Error | ((ctx: BuildContext) => void)>) {
  const ran: string[] = [];
  const steps: Step[] = outcomes.map((outcome, i) => ({
    title: `Step ${i + 1}`,
    async run(ctx, progress) {
      ran.push(`Step ${i + 1}`);
      progress(`step ${i + 1} working`);
      if (outcome instanceof Error) throw outcome;
      if (typeof outcome === "function") return outcome(ctx);
      return outcome;
    },
  }));
  return { ran, steps };
}

describe("runSteps", () => {
  it("runs every step in order, past skipped ones, and logs their progress", async () => {
    const ctx = await buildContext();
    const { ran, steps } = recordingSteps([undefined, { skipped: "cached source" }, undefined]);
    expect(await runSteps(steps, ctx, "silent")).toBeUndefined();
    expect(ran).toEqual(["Step 1", "Step 2", "Step 3"]);
    const log = await readFile(ctx.log.file, "utf8");
    expect(log).toMatch(/\[Step 1\] step 1 working\n.*\[Step 2\] step 2 working\n.*\[Step 3\] step 3 working\n$/);
  });

  it("stops after a step that says done, and returns its reason", async () => {
    const ctx = await buildContext();
    const { ran, steps } = recordingSteps([undefined, { done: "cached: dist/runc still matches" }, undefined, { skipped: "x" }]);
    expect(await runSteps(steps, ctx, "silent")).toBe("cached: dist/runc still matches");
    expect(ran).toEqual(["Step 1", "Step 2"]);
  });

  it("stops at the first failure and rejects with it", async () => {
    const ctx = await buildContext();
    const failure = new UserError("the engine is gone");
    const { ran, steps } = recordingSteps([undefined, failure, undefined]);
    await expect(runSteps(steps, ctx, "silent")).rejects.toBe(failure);
    expect(ran).toEqual(["Step 1", "Step 2"]);
  });

  it("stops with InterruptedError once the signal aborts, before the next step starts", async () => {
    const abort = new AbortController();
    const ctx = await buildContext({ signal: abort.signal });
    const { ran, steps } = recordingSteps([() => abort.abort("SIGTERM"), undefined]);
    await expect(runSteps(steps, ctx, "silent")).rejects.toThrow(InterruptedError);
    expect(ran).toEqual(["Step 1"]);
  });
});
