import path from "node:path";
import { simpleGit } from "simple-git";
import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { buildContext, scratchDir, writePriorBuild } from "../../test/unit/build-fixtures.js";
import { lookupRecipe } from "../recipes/lookup.js";
import { reusePreviousStep } from "./reuse-previous.js";

const ASSET = "runc-v1.0.0-rc9-nokmem-linux-amd64";

/** The context the reuse step sees for runc rc9 on the recipe's suite, with a valid earlier build in --out when `prior`. */
async function reuseContext(reuseExisting: boolean, prior: boolean) {
  const recipe = await lookupRecipe("runc", "v1.0.0-rc9");
  const ctx = await buildContext({ recipe, asset: ASSET, arch: "amd64", toolchainPlan: { suite: "bookworm" } }, { reuseExisting });
  const written = prior ? await writePriorBuild(ctx.options.outDir, recipe) : undefined;
  return { ctx, written };
}

/** A local repository whose tag `tag` names a first commit; returns it and that commit. */
async function repoWithTag(tag: string) {
  const dir = await scratchDir("repo");
  const git = simpleGit(dir);
  await git.init().addConfig("user.email", "t@example.invalid").addConfig("user.name", "t");
  await writeFile(path.join(dir, "f"), "1\n");
  await git.add(".").commit("one").addTag(tag);
  return { dir, git, commit: (await git.revparse(["HEAD"])).trim() };
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

  it("is skipped without looking when the run must rebuild (--force)", async () => {
    const { ctx } = await reuseContext(false, true);
    expect(await reusePreviousStep.run(ctx, () => undefined)).toEqual({ skipped: "rebuilding" });
    expect(ctx.reused).toBeUndefined();
  });

  it("keeps an unpinned build while the same source serves the tag at the same commit, and rebuilds once the tag moved", async () => {
    const tag = "v1.12.8";
    const repo = await repoWithTag(tag);
    const recipe = await lookupRecipe("kubelet", tag);
    const asset = `kubelet-${tag}-nokmem-linux-amd64`;
    const ctx = await buildContext({ recipe, asset, arch: "amd64", toolchainPlan: { suite: "bookworm" } }, { component: "kubelet", version: tag, source: repo.dir, reuseExisting: true });
    await writePriorBuild(ctx.options.outDir, recipe, {
      upstream: { url: recipe.upstream, source: repo.dir, commit: repo.commit, pinnedCommit: null, pinned: false },
      build: { command: "make kubelet", buildTags: [], makeVars: {}, env: { KUBE_STATIC_OVERRIDES: "kubelet" }, network: "none" },
    });
    expect(await reusePreviousStep.run(ctx, () => undefined)).toHaveProperty("done");

    const fromElsewhere = { ...ctx, reused: undefined, options: { ...ctx.options, source: undefined } };
    expect(await reusePreviousStep.run(fromElsewhere, () => undefined)).toEqual({ skipped: "none that still checks out" });

    await writeFile(path.join(repo.dir, "f"), "2\n");
    await repo.git.add(".").commit("two").tag(["-f", tag]);
    const again = { ...ctx, reused: undefined };
    expect(await reusePreviousStep.run(again, () => undefined)).toEqual({ skipped: "none that still checks out" });
  });
});
