import { need, type BuildContext } from "../pipeline/context.js";
import type { BuildManifest } from "../release/manifest.js";
import { TOOL_VERSION } from "../tool-version.js";

/** Build tags as the Makefile receives them: BUILDTAGS (runc) or -tags= in GOFLAGS (kubelet). */
function buildTags(vars: Record<string, string>): string[] {
  const fromGoflags = vars.GOFLAGS?.match(/-tags[= ]([^\s]+)/)?.[1]?.split(",") ?? [];
  return [...(vars.BUILDTAGS ?? "").split(/\s+/), ...fromGoflags].filter(Boolean);
}

/** The manifest of the build the context holds, once the binary is built and checked. */
export function describeBuild(ctx: BuildContext, sha256: string, size: number, files: BuildManifest["files"]): BuildManifest {
  const { recipe, tag, upstream, pinnedCommit, component } = need(ctx, "recipe");
  const source = need(ctx, "source");
  const toolchain = need(ctx, "toolchain");
  const toolchainPlan = need(ctx, "toolchainPlan");
  const binary = need(ctx, "binary");
  const linkage = need(ctx, "linkage");
  const { kmemEvidence } = binary;
  if (!kmemEvidence) throw new Error("pipeline bug: the manifest is described before kmem accounting was checked");
  return {
    schemaVersion: 1,
    component,
    version: tag,
    asset: need(ctx, "asset"),
    arch: need(ctx, "arch"),
    upstream: { url: upstream, source: source.source, commit: source.commit, pinnedCommit: pinnedCommit ?? null, pinned: source.pinned },
    recipe: { id: recipe.id, layout: recipe.layout, range: recipe.range, method: recipe.method },
    patch: ctx.patch
      ? { file: ctx.patch.file, stubbed: ctx.patch.stubbed, removedImports: ctx.patch.removedImports, sha256: ctx.patch.sha256 }
      : null,
    build: {
      command: binary.command,
      buildTags: buildTags(recipe.make.vars),
      makeVars: recipe.make.vars,
      env: binary.env,
      network: "none",
      goCache: ctx.goCache ?? "off",
    },
    toolchain: {
      suite: "suite" in toolchainPlan ? toolchainPlan.suite : null,
      base: ctx.base ? { id: ctx.base.id, origin: ctx.base.origin, from: ctx.base.from, digest: ctx.base.digest } : null,
      goImage: toolchain.goImage,
      goImageId: toolchain.goImageId,
      packages: toolchain.packages,
      builderImage: toolchain.builderImage,
      builderImageId: toolchain.builderImageId,
      goVersion: toolchain.goVersion,
      recipeGo: recipe.go,
      engine: ctx.docker.endpoint,
    },
    binary: {
      sha256,
      size,
      linkage: linkage.linkage,
      maxGlibc: linkage.maxGlibc ?? null,
      targetGlibc: ctx.options.targetGlibc,
      versionOutput: binary.versionOutput,
      kmemEvidence,
    },
    tool: { name: "nokmem-build", version: TOOL_VERSION },
    builtAt: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - ctx.startedAt.getTime()) / 100) / 10,
    warnings: ctx.warnings,
    files,
  };
}
