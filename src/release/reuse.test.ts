import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { scratchDir, writePriorBuild } from "../../test/unit/build-fixtures.js";
import { lookupRecipe } from "../recipes/lookup.js";
import type { ResolvedRecipe } from "../recipes/resolve.js";
import { SUMS_FILE, mergeSums, parseSums, sha256File } from "./checksums.js";
import type { BuildManifest } from "./manifest.js";
import { reusableBuild, type ReuseWanted } from "./reuse.js";

const ASSET = "runc-v1.0.0-rc9-nokmem-linux-amd64";
let rc9: ResolvedRecipe;

beforeAll(async () => {
  rc9 = await lookupRecipe("runc", "v1.0.0-rc9");
});

/** What a default `nokmem-build runc` run would build with (writePriorBuild's manifest matches it). */
const DEFAULT_RUN: ReuseWanted = { toolchain: { suite: "bookworm" }, allowUnpinned: false, link: "static", targetGlibc: "2.17" };

/** An out dir holding a build of rc9, then changed by `spoil`; the answer reusableBuild gives for rc9 (or `asked`) and a run made as `wanted`. */
async function reuseAfter(spoil: (file: string, written: BuildManifest) => Promise<unknown>, asked: ResolvedRecipe = rc9, wanted: Partial<ReuseWanted> = {}) {
  const outDir = await scratchDir("reuse");
  const written = await writePriorBuild(outDir, rc9);
  await spoil(path.join(outDir, ASSET), written);
  return { written, found: await reusableBuild(outDir, ASSET, asked, { ...DEFAULT_RUN, ...wanted }) };
}

const unpinnedBuild = (file: string, m: BuildManifest) => rewriteManifest(file, { ...m, upstream: { ...m.upstream, commit: "e".repeat(40), pinned: false } });

/** Replaces the manifest and its SHA256SUMS line, as a build that wrote it would have: only its content differs. */
async function rewriteManifest(file: string, manifest: unknown): Promise<void> {
  await writeFile(`${file}.json`, JSON.stringify(manifest));
  const sums = path.join(path.dirname(file), SUMS_FILE);
  const entries = parseSums(await readFile(sums, "utf8"));
  entries.set(`${path.basename(file)}.json`, await sha256File(`${file}.json`));
  await writeFile(sums, mergeSums("", entries));
}

describe("reusableBuild", () => {
  it("returns the manifest of a build whose binary, recipe and pinned commit still match", async () => {
    const { written, found } = await reuseAfter(async () => undefined);
    expect(written.upstream.commit).toBe(rc9.pinnedCommit);
    expect(found).toEqual(written);
  });

  it("accepts any commit for an unpinned tag, since there is no pin to hold it to", async () => {
    const unpinned = { ...rc9, pinnedCommit: undefined };
    const { written, found } = await reuseAfter(
      (file, m) => rewriteManifest(file, { ...m, upstream: { ...m.upstream, commit: "f".repeat(40), pinnedCommit: null, pinned: false } }),
      unpinned,
    );
    expect(found).toEqual({ ...written, upstream: { ...written.upstream, commit: "f".repeat(40), pinnedCommit: null, pinned: false } });
  });

  it.each<{ case: string; spoil: (file: string, m: BuildManifest) => Promise<unknown> }>([
    { case: "the binary's bytes changed", spoil: (file) => writeFile(file, "#!/bin/sh\necho tampered\n") },
    { case: "the binary is gone", spoil: (file) => rm(file) },
    { case: "the manifest names another commit than the pin", spoil: (file, m) => rewriteManifest(file, { ...m, upstream: { ...m.upstream, commit: "0".repeat(40) } }) },
    { case: "the manifest says the build was not pinned", spoil: (file, m) => rewriteManifest(file, { ...m, upstream: { ...m.upstream, pinned: false } }) },
    { case: "the manifest is another version's", spoil: (file, m) => rewriteManifest(file, { ...m, version: "v1.0.0-rc8" }) },
    { case: "the manifest is not JSON", spoil: (file) => writeFile(`${file}.json`, "{ not json") },
    { case: "the manifest misses fields the schema requires", spoil: (file, m) => rewriteManifest(file, { ...m, binary: undefined }) },
    { case: "the manifest has another schema version", spoil: (file, m) => rewriteManifest(file, { ...m, schemaVersion: 2 }) },
  ])("returns undefined when $case", async ({ spoil }) => {
    expect((await reuseAfter(spoil)).found).toBeUndefined();
  });

  it("keeps an unpinned build of a pinned tag only for a run that allows unpinned builds", async () => {
    expect((await reuseAfter(unpinnedBuild)).found).toBeUndefined();
    expect((await reuseAfter(unpinnedBuild, rc9, { allowUnpinned: true })).found?.upstream.commit).toBe("e".repeat(40));
  });

  it.each<{ case: string; wanted: Partial<ReuseWanted> }>([
    { case: "another Debian suite", wanted: { toolchain: { suite: "bullseye" } } },
    { case: "a --go-image instead of the suite", wanted: { toolchain: { goImage: "nokmem-build/go:bookworm" } } },
  ])("returns undefined when this run would build on $case", async ({ wanted }) => {
    expect((await reuseAfter(async () => undefined, rc9, wanted)).found).toBeUndefined();
  });

  it("keeps a --go-image build for a run on the same --go-image, and not for another", async () => {
    const onImage = (file: string, m: BuildManifest) => rewriteManifest(file, { ...m, toolchain: { ...m.toolchain, suite: null, base: null, goImage: "golang:1.19" } });
    expect((await reuseAfter(onImage, rc9, { toolchain: { goImage: "golang:1.19" } })).found).toBeDefined();
    expect((await reuseAfter(onImage, rc9, { toolchain: { goImage: "golang:1.20" } })).found).toBeUndefined();
    expect((await reuseAfter(onImage)).found).toBeUndefined();
  });

  it("keeps a dynamic binary only while it starts on the run's --target-glibc", async () => {
    const dynamic = (file: string, m: BuildManifest) => rewriteManifest(file, { ...m, binary: { ...m.binary, linkage: "dynamic", maxGlibc: "2.14" } });
    expect((await reuseAfter(dynamic)).found).toBeDefined();
    expect((await reuseAfter(dynamic, rc9, { targetGlibc: "2.12" })).found).toBeUndefined();
  });

  it("tells a static kubelet build from a dynamic one (--link) by the recipe's static environment", async () => {
    const kubelet = await lookupRecipe("kubelet", "v1.12.8");
    const outDir = await scratchDir("reuse-link");
    const asset = "kubelet-v1.12.8-nokmem-linux-amd64";
    // writePriorBuild records no environment: a dynamic build's manifest.
    const m = await writePriorBuild(outDir, kubelet);
    const wanted = { ...DEFAULT_RUN, toolchain: { suite: m.toolchain.suite! } };
    expect(await reusableBuild(outDir, asset, kubelet, { ...wanted, link: "dynamic" })).toBeDefined();
    expect(await reusableBuild(outDir, asset, kubelet, wanted)).toBeUndefined();
    await rewriteManifest(path.join(outDir, asset), { ...m, build: { ...m.build, env: { KUBE_STATIC_OVERRIDES: "kubelet" } } });
    expect(await reusableBuild(outDir, asset, kubelet, wanted)).toBeDefined();
    expect(await reusableBuild(outDir, asset, kubelet, { ...wanted, link: "dynamic" })).toBeUndefined();
  });

  it("returns undefined for a build made with another recipe", async () => {
    const otherRecipe = { ...rc9, recipe: (await lookupRecipe("runc", "v1.0.0-rc92")).recipe };
    expect(otherRecipe.recipe.id).not.toBe(rc9.recipe.id);
    expect((await reuseAfter(async () => undefined, otherRecipe)).found).toBeUndefined();
  });
});
