import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { onTestFinished } from "vitest";
import { BuildLog } from "../../src/pipeline/build-log.js";
import type { BuildContext, BuildOptions } from "../../src/pipeline/context.js";
import { ArtifactList } from "../../src/release/artifact-list.js";
import { SUMS_FILE, sha256File, sumLine } from "../../src/release/checksums.js";
import { manifestSchema, type BuildManifest } from "../../src/release/manifest.js";
import { assetName } from "../../src/release/names.js";
import type { ResolvedRecipe } from "../../src/recipes/resolve.js";
import { removeDir, tempDir } from "../helpers.js";
import { FakeDocker } from "./fake-docker.js";

/** A temp directory removed when the current test ends. */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  onTestFinished(() => removeDir(dir));
  return dir;
}

/** Options as the CLI defaults them, for a runc build into a scratch out dir. */
export async function buildOptions(overrides: Partial<BuildOptions> = {}): Promise<BuildOptions> {
  const dir = await scratchDir("opts");
  return {
    component: "runc",
    version: "v1.0.0-rc9",
    source: undefined,
    allowUnpinned: false,
    goImage: undefined,
    outDir: path.join(dir, "dist"),
    cacheDir: path.join(dir, "cache"),
    targetGlibc: "2.17",
    link: "static",
    memoryBytes: 0,
    nanoCpus: 0,
    reuseExisting: false,
    ...overrides,
  };
}

/** A fresh build context as buildComponent makes one, over a fake engine unless one is given. */
export async function buildContext(
  fields: Partial<BuildContext> = {},
  options: Partial<BuildOptions> = {},
): Promise<BuildContext> {
  const staging = await scratchDir("staging");
  return {
    options: await buildOptions(options),
    docker: new FakeDocker(),
    runId: "test-run",
    labels: { "io.nokmem-build": "true", "io.nokmem-build.run": "test-run" },
    signal: new AbortController().signal,
    startedAt: new Date(),
    staging,
    log: new BuildLog(path.join(staging, "build.log")),
    warnings: [],
    artifacts: new ArtifactList(),
    ...fields,
  };
}

/**
 * Writes `<asset>` and `<asset>.json` into `outDir` as a finished build of
 * `resolved` leaves them, with a manifest valid per the schema; `manifest`
 * overrides its fields. Returns the manifest written.
 */
export async function writePriorBuild(
  outDir: string,
  resolved: ResolvedRecipe,
  manifest: Partial<BuildManifest> = {},
  binary = "#!/bin/sh\necho runc\n",
): Promise<BuildManifest> {
  const asset = assetName({ component: resolved.component, version: resolved.tag, arch: "amd64" });
  const file = path.join(outDir, asset);
  await mkdir(outDir, { recursive: true });
  await writeFile(file, binary, { mode: 0o755 });
  // The rest of what a build publishes, listed in the manifest with their sha256.
  const binarySha = await sha256File(file);
  await writeFile(`${file}.sha256`, sumLine(binarySha, asset));
  await writeFile(`${file}.log`, "build log\n");
  const files = [
    { name: asset, kind: "binary" as const, sha256: binarySha },
    { name: `${asset}.sha256`, kind: "checksum" as const, sha256: await sha256File(`${file}.sha256`) },
    { name: `${asset}.log`, kind: "log" as const, sha256: await sha256File(`${file}.log`) },
  ];
  const { recipe } = resolved;
  const written = manifestSchema.parse({
    schemaVersion: 1,
    component: resolved.component,
    version: resolved.tag,
    asset,
    arch: "amd64",
    upstream: {
      url: resolved.upstream,
      source: resolved.upstream,
      commit: resolved.pinnedCommit ?? "f".repeat(40),
      pinnedCommit: resolved.pinnedCommit ?? null,
      pinned: resolved.pinnedCommit !== undefined,
    },
    recipe: { id: recipe.id, layout: recipe.layout, range: recipe.range, method: recipe.method },
    patch: null,
    build: { command: "make static", buildTags: ["seccomp", "nokmem"], makeVars: recipe.make.vars, env: {}, network: "none" },
    toolchain: {
      suite: "bookworm",
      base: { id: "sha256:base", origin: "debootstrap", from: "mirror", digest: null },
      goImage: "nokmem-build/go:bookworm",
      goImageId: "sha256:go",
      packages: { "golang-1.19-go": "1.19.8-2" },
      builderImage: "nokmem-build/builder:fake",
      builderImageId: "sha256:fake",
      goVersion: "1.19.8",
      recipeGo: recipe.go,
      engine: "fake",
    },
    binary: { sha256: binarySha, size: binary.length, linkage: "static", maxGlibc: null, targetGlibc: "2.17", versionOutput: `runc version ${resolved.tag}`, kmemEvidence: "kmem_disabled.go is compiled in" },
    tool: { name: "nokmem-build", version: "0.0.0-test" },
    builtAt: new Date(0).toISOString(),
    durationSeconds: 1,
    warnings: [],
    files,
    ...manifest,
  });
  await writeFile(`${file}.json`, `${JSON.stringify(written, null, 2)}\n`);
  // SHA256SUMS over all of it.
  const names = [asset, `${asset}.json`, `${asset}.sha256`, `${asset}.log`];
  const sums = await Promise.all(names.map(async (n) => sumLine(await sha256File(path.join(outDir, n)), n)));
  await writeFile(path.join(outDir, SUMS_FILE), sums.join(""));
  return written;
}
