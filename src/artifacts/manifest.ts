import type { BuildContext } from "../pipeline/context.js";
import { need } from "../pipeline/context.js";
import { TOOL_VERSION } from "../tool-version.js";

export interface BuildManifest {
  schemaVersion: 1;
  component: string;
  version: string;
  asset: string;
  arch: string;
  upstream: { url: string; source: string; commit: string; pinnedCommit: string | null; pinned: boolean };
  recipe: { id: string; layout: string; range: string };
  build: { command: string; buildTags: string[]; makeVars: Record<string, string>; env: Record<string, string>; network: "none" };
  toolchain: { goImage: string; builderImage: string; builderImageId: string; goVersion: string; recipeGo: string; engine: string };
  binary: { sha256: string; size: number; linkage: string; maxGlibc: string | null; targetGlibc: string; versionOutput: string };
  tool: { name: "nokmem-build"; version: string };
  builtAt: string;
  durationSeconds: number;
  warnings: string[];
}

export function buildManifest(ctx: BuildContext, sha256: string, size: number): BuildManifest {
  const { recipe, tag, upstream, pinnedCommit, component } = need(ctx, "recipe");
  const source = need(ctx, "source");
  const toolchain = need(ctx, "toolchain");
  const binary = need(ctx, "binary");
  const linkage = need(ctx, "linkage");
  return {
    schemaVersion: 1,
    component,
    version: tag,
    asset: need(ctx, "asset"),
    arch: need(ctx, "arch"),
    upstream: { url: upstream, source: source.source, commit: source.commit, pinnedCommit: pinnedCommit ?? null, pinned: source.pinned },
    recipe: { id: recipe.id, layout: recipe.layout, range: recipe.range },
    build: {
      command: binary.command,
      buildTags: (recipe.make.vars.BUILDTAGS ?? "").split(/\s+/).filter(Boolean),
      makeVars: recipe.make.vars,
      env: binary.env,
      network: "none",
    },
    toolchain: {
      goImage: toolchain.goImage,
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
    },
    tool: { name: "nokmem-build", version: TOOL_VERSION },
    builtAt: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - ctx.startedAt.getTime()) / 100) / 10,
    warnings: ctx.warnings,
  };
}
