import path from "node:path";
import { need, type Step } from "../pipeline/context.js";
import { reusableBuild } from "../release/reuse.js";

/** `build` keeps a target whose artifacts in --out still check out; `runc`/`kubelet` always rebuild. */
export const reusePreviousStep: Step = {
  title: "Looking for a previous build",
  async run(ctx) {
    if (!ctx.options.reuseExisting) return { skipped: "rebuilding" };
    const prior = await reusableBuild(ctx.options.outDir, need(ctx, "asset"), need(ctx, "recipe"));
    if (!prior) return { skipped: "none that still checks out" };
    ctx.reused = prior;
    return { done: `cached: ${path.join(ctx.options.outDir, prior.asset)} still matches its manifest` };
  },
};
