import path from "node:path";
import { need, type BuildContext, type Step } from "../pipeline/context.js";
import type { BuildManifest } from "../release/manifest.js";
import { reusableBuild } from "../release/reuse.js";
import { SourceStalledError, gitUrl, remoteTagCommit } from "../source/fetch.js";

/**
 * An unpinned build stands only while the same source serves the tag at the
 * same commit (one `git ls-remote`): a moved tag is rebuilt, never served stale.
 */
async function stillServed(ctx: BuildContext, prior: BuildManifest): Promise<boolean> {
  if (prior.upstream.pinned) return true;
  try {
    const url = gitUrl(ctx.options.source ?? need(ctx, "recipe").upstream);
    if (gitUrl(prior.upstream.source) !== url) return false;
    return (await remoteTagCommit(url, prior.version, ctx.signal)) === prior.upstream.commit;
  } catch (err) {
    // A stalled source would stall the clone next: said now, not a minute later.
    if (err instanceof SourceStalledError) throw err;
    // Unreachable or gone: the build that follows says so in its own words.
    return false;
  }
}

/** Artifacts in --out that still match what this run would build end it as cached (--force rebuilds). */
export const reusePreviousStep: Step = {
  title: "Looking for a previous build",
  async run(ctx) {
    if (!ctx.options.reuseExisting) return { skipped: "rebuilding" };
    const { allowUnpinned, link, targetGlibc, outDir } = ctx.options;
    const wanted = { toolchain: need(ctx, "toolchainPlan"), allowUnpinned, link, targetGlibc };
    const prior = await reusableBuild(outDir, need(ctx, "asset"), need(ctx, "recipe"), wanted);
    if (!prior || !(await stillServed(ctx, prior))) return { skipped: "none that still checks out" };
    ctx.reused = prior;
    return { done: `cached: ${path.join(outDir, prior.asset)} still matches its manifest` };
  },
};
