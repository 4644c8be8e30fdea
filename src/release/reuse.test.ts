import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { scratchDir, writePriorBuild } from "../../test/unit/build-fixtures.js";
import { lookupRecipe } from "../recipes/lookup.js";
import type { ResolvedRecipe } from "../recipes/resolve.js";
import { SUMS_FILE, mergeSums, parseSums, sha256File } from "./checksums.js";
import type { BuildManifest } from "./manifest.js";
import { reusableBuild } from "./reuse.js";

const ASSET = "runc-v1.0.0-rc9-nokmem-linux-amd64";
let rc9: ResolvedRecipe;

beforeAll(async () => {
  rc9 = await lookupRecipe("runc", "v1.0.0-rc9");
});

/** An out dir holding a build of rc9, then changed by `spoil`; the answer reusableBuild gives for rc9 (or `asked`). */
async function reuseAfter(spoil: (file: string, written: BuildManifest) => Promise<unknown>, asked: ResolvedRecipe = rc9) {
  const outDir = await scratchDir("reuse");
  const written = await writePriorBuild(outDir, rc9);
  await spoil(path.join(outDir, ASSET), written);
  return { written, found: await reusableBuild(outDir, ASSET, asked) };
}

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

  it("returns undefined for a build made with another recipe", async () => {
    const otherRecipe = { ...rc9, recipe: (await lookupRecipe("runc", "v1.0.0-rc92")).recipe };
    expect(otherRecipe.recipe.id).not.toBe(rc9.recipe.id);
    expect((await reuseAfter(async () => undefined, otherRecipe)).found).toBeUndefined();
  });
});
