import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildContext, writePriorBuild } from "../../test/unit/build-fixtures.js";
import { lookupRecipe } from "../recipes/lookup.js";
import { reusePreviousStep } from "./reuse-previous.js";

const ASSET = "runc-v1.0.0-rc9-nokmem-linux-amd64";

/** The context the reuse step sees for runc rc9, with a valid earlier build in --out when `prior`. */
async function reuseContext(reuseExisting: boolean, prior: boolean) {
  const recipe = await lookupRecipe("runc", "v1.0.0-rc9");
  const ctx = await buildContext({ recipe, asset: ASSET, arch: "amd64" }, { reuseExisting });
  const written = prior ? await writePriorBuild(ctx.options.outDir, recipe) : undefined;
  return { ctx, written };
}

describe("reuse-previous step", () => {
  it("ends the run as cached when --out holds a build that still checks out", async () => {
    const { ctx, written } = await reuseContext(true, true);
    const outcome = await reusePreviousStep.run(ctx, () => undefined);
    expect(outcome).toEqual({ done: `cached: ${path.join(ctx.options.outDir, ASSET)} still matches its manifest` });
    expect(ctx.reused).toEqual(written);
  });

  it("is skipped, and the build goes on, when nothing in --out checks out", async () => {
    const { ctx } = await reuseContext(true, false);
    expect(await reusePreviousStep.run(ctx, () => undefined)).toEqual({ skipped: "none that still checks out" });
    expect(ctx.reused).toBeUndefined();
  });

  it("is skipped without looking when the command always rebuilds (runc, kubelet, build --force)", async () => {
    const { ctx } = await reuseContext(false, true);
    expect(await reusePreviousStep.run(ctx, () => undefined)).toEqual({ skipped: "rebuilding" });
    expect(ctx.reused).toBeUndefined();
  });
});
