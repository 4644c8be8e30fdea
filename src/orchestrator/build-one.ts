import { randomBytes } from "node:crypto";
import { copyFile, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { UserError, throwIfInterrupted } from "../errors.js";
import { sweepTempDirs, tempDirOf } from "../fs/sweep.js";
import type { DockerEngine } from "../docker/engine.js";
import { runLabels } from "../docker/labels.js";
import { BuildLog } from "../pipeline/build-log.js";
import { need, type BuildContext, type BuildOptions } from "../pipeline/context.js";
import type { RenderMode } from "../pipeline/render.js";
import { runSteps } from "../pipeline/run.js";
import type { Turns } from "../pipeline/turns.js";
import { ArtifactList } from "../release/artifact-list.js";
import { SUMS_FILE } from "../release/checksums.js";
import type { BuildManifest } from "../release/manifest.js";
import { buildFiles } from "../release/reuse.js";
import { buildSteps } from "../steps/index.js";

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
  /** Shared by the builds of one run that may go side by side (build --jobs). */
  turns?: Turns;
}

/**
 * Builds one component version end to end, as the step list says. The output
 * directory is touched only by the last step; anything before it works in a
 * private staging directory that is removed whatever happens.
 */
export async function buildComponent(options: BuildOptions, deps: BuildDeps): Promise<BuildResult> {
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  // Staging directories of killed runs are removed here, as their containers are by the engine check.
  await sweepTempDirs();
  const staging = await tempDirOf("stage");
  const ctx: BuildContext = {
    options,
    docker: deps.docker,
    runId,
    labels: runLabels(runId),
    signal: deps.signal,
    turns: deps.turns,
    startedAt: new Date(),
    staging,
    log: new BuildLog(path.join(staging, "build.log")),
    warnings: [],
    artifacts: new ArtifactList(),
  };
  try {
    await runSteps(buildSteps, ctx, deps.mode);
    const manifest = ctx.reused ?? need(ctx, "manifest");
    return {
      status: ctx.reused ? "cached" : "built",
      component: manifest.component,
      version: manifest.version,
      asset: manifest.asset,
      outDir: options.outDir,
      files: ctx.reused ? [...buildFiles(manifest), SUMS_FILE] : need(ctx, "published"),
      sha256: manifest.binary.sha256,
      manifest,
      warnings: ctx.reused ? [] : ctx.warnings,
    };
  } catch (err) {
    throwIfInterrupted(deps.signal);
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
