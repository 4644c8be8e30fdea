import { readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { UserError, throwIfInterrupted } from "../errors.js";
import { runInContainer, type ContainerRunResult } from "../docker/run-container.js";
import { OUT_DIR, planBuild, type BuildPlan } from "../recipes/build-plan.js";
import { need, type BuildContext, type Step } from "../pipeline/context.js";
import { joinTars, packCheckout, packCommitTree, packTree } from "../source/pack.js";
import { ensureGoCache, goCacheVolume } from "../toolchain/go-cache.js";

const size = (bytes: number) => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)}g` : `${Math.round(bytes / 2 ** 20)}m`);

/** Compiles in a fresh container: no network, source in and binary out as tar streams. */
export const compileStep: Step = {
  title: "Building in a container",
  async run(ctx, progress) {
    const { recipe, importPath, tag } = need(ctx, "recipe");
    const source = need(ctx, "source");
    const toolchain = need(ctx, "toolchain");
    const asset = need(ctx, "asset");
    const plan = planBuild(recipe, importPath, asset, { tag, commit: source.commit }, ctx.options.link);
    // Builds side by side on one Go cache (build --jobs) compile in turn: the next reads what this one compiled.
    const sharedCache = ctx.options.noCache ? undefined : goCacheVolume(toolchain.builderImage, toolchain.builderImageId).name;
    const run = await inTurn(ctx, sharedCache, progress, () => compileInContainer(ctx, plan, progress));
    throwIfInterrupted(ctx.signal);
    if (run.oomKilled || (run.exitCode === 137 && ctx.options.memoryBytes)) {
      const limit = ctx.options.memoryBytes ? `the --memory limit of ${size(ctx.options.memoryBytes)}` : "the memory available to the engine";
      throw new UserError(`the build ran out of memory (compiler killed at ${limit}; the source tree, held in memory, counts too): raise --memory or free memory on the Docker host`);
    }
    if (run.exitCode !== 0 || !run.collected) {
      throw new BuildFailedError(`\`${plan.command}\` failed in the build container (exit ${run.exitCode})`, ctx.log.tail());
    }
    const outDir = path.join(run.collected, path.basename(OUT_DIR));
    const staged = path.join(ctx.staging, asset);
    await rename(path.join(outDir, asset), staged);
    const versionOutput = (await readFile(path.join(outDir, "version.txt"), "utf8")).trim();
    await rm(run.collected, { recursive: true, force: true });
    ctx.binary = { path: staged, versionOutput, command: plan.command, env: plan.env };
  },
};

/** The compile itself: the Go cache volume made or found, the source in, the binary and its version out. */
async function compileInContainer(ctx: BuildContext, plan: BuildPlan, progress: (line: string) => void): Promise<ContainerRunResult> {
  const { recipe } = need(ctx, "recipe");
  const source = need(ctx, "source");
  const toolchain = need(ctx, "toolchain");
  // Go's cache is content-addressed: a warm one gives the same bytes, sooner.
  const cache = ctx.options.noCache ? undefined : await ensureGoCache(ctx.docker, toolchain.builderImage, toolchain.builderImageId);
  ctx.goCache = cache?.state ?? "off";
  ctx.log.line(cache ? `Go build cache: ${cache.state} (volume ${cache.name} at ${plan.goCache})` : "Go build cache: off (--no-cache)");
  progress(`${plan.command} (Go build cache ${ctx.goCache})`);

  // The patched file first: the tree's git archive starts at once, and nothing may wait between it and joinTars.
  const patched = ctx.patch ? [await packTree(ctx.patch.overlay, plan.workDir)] : [];
  const tree = recipe.gitMetadata ? await packCheckout(source.dir, source.commit, plan.workDir, path.join(ctx.staging, "git")) : [packCommitTree(source.dir, source.commit, plan.workDir)];
  return runInContainer(ctx.docker, {
    image: toolchain.builderImage,
    // The source comes in on standard input: the engine's copy API cannot write into a tmpfs.
    cmd: ["/bin/sh", "-c", 'tar -xf - -C / && exec /bin/sh -c "$1"', "sh", plan.script],
    env: plan.env,
    workingDir: plan.workDir,
    labels: ctx.labels,
    memoryBytes: ctx.options.memoryBytes,
    nanoCpus: ctx.options.nanoCpus,
    // The tree in memory: a 23,000-file Kubernetes-sized one went in and was deleted with the
    // container in 8.9 s on a volume (21 s on the overlay file system), in about 4 s on a tmpfs.
    tmpfs: [plan.workDir],
    // The Go cache on a volume (an anonymous one, gone with the container, under --no-cache).
    volumes: [{ name: cache?.name, target: plan.goCache }],
    // One archive: the tree, its .git when the build reads git, then the patched file, if any, over the tree.
    input: joinTars([...tree, ...patched]),
    collect: OUT_DIR,
    signal: ctx.signal,
    sink: (_stream, text) => ctx.log.output(text),
  });
}

/** `fn` in this build's turn on `key` (one compile at a time per Go cache, build --jobs); at once for a build on its own. */
async function inTurn<T>(ctx: BuildContext, key: string | undefined, progress: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const turn = key === undefined ? undefined : ctx.turns?.ask(key, `${ctx.options.component} ${need(ctx, "recipe").tag}`);
  try {
    if (turn?.after) {
      progress(`waiting for ${turn.after} to finish compiling on the same Go cache`);
      const since = Date.now();
      await turn.ready;
      throwIfInterrupted(ctx.signal);
      ctx.log.line(`waited ${((Date.now() - since) / 1000).toFixed(1)} s for ${turn.after} to finish compiling on the same Go cache`);
    }
    return await fn();
  } finally {
    turn?.end();
  }
}

/** A compile failure: the log's last lines are the evidence, shown above the one-line error. */
export class BuildFailedError extends UserError {
  constructor(
    message: string,
    readonly logTail: string[],
  ) {
    super(message);
  }
}
