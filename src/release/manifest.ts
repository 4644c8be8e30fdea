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
  recipe: { id: string; layout: string; range: string; method: string };
  patch: { file: string; stubbed: string[]; removedImports: string[]; sha256: string } | null;
  build: { command: string; buildTags: string[]; makeVars: Record<string, string>; env: Record<string, string>; network: "none" };
  toolchain: { goImage: string; builderImage: string; builderImageId: string; goVersion: string; recipeGo: string; engine: string };
  binary: { sha256: string; size: number; linkage: string; maxGlibc: string | null; targetGlibc: string; versionOutput: string };
  tool: { name: "nokmem-build"; version: string };
  builtAt: string;
  durationSeconds: number;
  warnings: string[];
}

/** Build tags as the Makefile receives them: BUILDTAGS (runc) or -tags= in GOFLAGS (kubelet). */
function buildTags(vars: Record<string, string>): string[] {
  const fromGoflags = vars.GOFLAGS?.match(/-tags[= ]([^\s]+)/)?.[1]?.split(",") ?? [];
  return [...(vars.BUILDTAGS ?? "").split(/\s+/), ...fromGoflags].filter(Boolean);
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
