import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { InterruptedError, UsageError, UserError } from "../errors.js";
import type { DockerEngine } from "../docker/engine.js";
import { runLabels } from "../docker/labels.js";
import { ArtifactList } from "../release/artifact-list.js";
import type { BuildManifest } from "../release/manifest.js";
import { BuildLog } from "../pipeline/build-log.js";
import { build, preflight } from "../steps/index.js";
import { reusableBuild } from "../release/reuse.js";
import { need, type BuildContext, type BuildOptions } from "../pipeline/context.js";
import { runSteps, type RenderMode } from "../pipeline/run.js";
import { loadRecipeBook, recipeFile } from "../recipes/load.js";
import { resolveRecipe } from "../recipes/resolve.js";

export interface BuildResult {
  status: "built" | "cached";
  component: string;
  version: string;
  asset: string;
  outDir: string;
  files: string[];
  sha256: string;
  manifest: BuildManifest;
  warnings: string[];
}

export interface BuildDeps {
  docker: DockerEngine;
  signal: AbortSignal;
  mode: RenderMode;
}

/**
 * Builds one component version end to end. The output directory is touched
 * only by the last step; anything before it works in a private staging
 * directory that is removed whatever happens.
 */
export async function buildComponent(options: BuildOptions, deps: BuildDeps): Promise<BuildResult> {
  // A refused or malformed version fails here, in milliseconds, before any output or temp directory exists.
  const book = await loadRecipeBook(recipeFile(options.component));
  const recipe = resolveRecipe(book, options.version, { allowUnpinned: options.allowUnpinned });
  if (options.link === "dynamic" && !Object.keys(recipe.recipe.staticEnv).length) {
    throw new UsageError(`--link dynamic: ${recipe.component} ${recipe.tag} is built static by its Makefile (make ${recipe.recipe.make.target}); drop --link`);
  }
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const staging = await mkdtemp(path.join(os.tmpdir(), "nokmem-build-"));
  const ctx: BuildContext = {
    options,
    docker: deps.docker,
    runId,
    labels: runLabels(runId),
    signal: deps.signal,
    startedAt: new Date(),
    staging,
    log: new BuildLog(path.join(staging, "build.log")),
    warnings: [],
    artifacts: new ArtifactList(),
    recipe,
  };
  try {
    await runSteps(preflight, ctx, deps.mode);
    const prior = options.reuseExisting ? await reusableBuild(options.outDir, need(ctx, "asset"), recipe) : undefined;
    if (prior) return { status: "cached", ...prior, outDir: path.resolve(options.outDir), warnings: [] };
    await runSteps(build, ctx, deps.mode);
    const manifest = need(ctx, "manifest");
    return {
      status: "built",
      component: manifest.component,
      version: manifest.version,
      asset: manifest.asset,
      outDir: path.resolve(options.outDir),
      files: need(ctx, "published"),
      sha256: manifest.binary.sha256,
      manifest,
      warnings: ctx.warnings,
    };
  } catch (err) {
    if (deps.signal.aborted) throw new InterruptedError(String(deps.signal.reason ?? "signal"));
    // Once a build started, its log is kept where the user can read it; the output directory stays untouched.
    if (ctx.source && err instanceof UserError) {
      const kept = path.join(options.cacheDir, "logs", `${ctx.asset ?? options.component}-${runId}.log`);
      await mkdir(path.dirname(kept), { recursive: true });
      await copyFile(ctx.log.file, kept);
      err.message += `; full log: ${kept}`;
    }
    throw err;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
