import { describe, expect, it } from "vitest";
import { buildOptions, writePriorBuild } from "../../test/unit/build-fixtures.js";
import { FakeDocker, engineDown } from "../../test/unit/fake-docker.js";
import { listDir } from "../../test/helpers.js";
import { componentRecipes, lookupRecipe } from "../recipes/lookup.js";
import { buildMany, parseTarget, type ManyOptions } from "./build-many.js";

async function manyOptions(overrides: Partial<ManyOptions> = {}): Promise<ManyOptions> {
  const { outDir, cacheDir, targetGlibc, link, memoryBytes, nanoCpus, allowUnpinned } = await buildOptions();
  return { outDir, cacheDir, targetGlibc, link, memoryBytes, nanoCpus, allowUnpinned, reuseExisting: true, source: {}, goImage: {}, jobs: 2, ...overrides };
}

const build = (targets: string[], opts: ManyOptions, docker: FakeDocker) =>
  buildMany(targets.map(parseTarget), opts, { docker, signal: new AbortController().signal, mode: "silent" });

describe("buildMany, against a fake engine", () => {
  it("refuses versions the recipes refuse, with the recipe's reason, without calling the engine", async () => {
    const fake = new FakeDocker();
    const [tooOld, removedUpstream] = (await componentRecipes("runc")).refusals.map((r) => r.reason);

    const outcomes = await build(["runc@v1.0.0-rc2", "runc@v1.0.0-rc95"], await manyOptions(), fake);

    expect(outcomes).toEqual([
      { target: "runc@v1.0.0-rc2", status: "refused", reason: `runc v1.0.0-rc2 is not rebuilt: ${tooOld}` },
      { target: "runc@v1.0.0-rc95", status: "refused", reason: `runc v1.0.0-rc95 is not rebuilt: ${removedUpstream}` },
    ]);
    expect(fake.calls).toEqual([]);
  });

  it("fails every target with the engine's message when the engine does not answer", async () => {
    const fake = new FakeDocker();
    fake.pingError = engineDown();

    const outcomes = await build(["runc@v1.0.0-rc9", "kubelet@v1.18.6", "runc@v1.0.0-rc93"], await manyOptions(), fake);

    expect(outcomes).toEqual(
      ["runc@v1.0.0-rc9", "kubelet@v1.18.6", "runc@v1.0.0-rc93"].map((target) => ({ target, status: "failed", reason: fake.pingError!.message })),
    );
    expect(fake.count("ping")).toBe(3);
    expect(fake.count("createContainer")).toBe(0);
  });

  it("keeps going past a failing and a refused target: the others still finish, reported in the order given", async () => {
    const fake = new FakeDocker();
    const opts = await manyOptions({ source: { all: "/nonexistent/runc-mirror" } });
    // rc9 is already in --out and still checks out, so it finishes without a source.
    const prior = await writePriorBuild(opts.outDir, await lookupRecipe("runc", "v1.0.0-rc9"));
    const before = await listDir(opts.outDir);

    const outcomes = await build(["runc@v1.0.0-rc8", "runc@v1.0.0-rc2", "runc@v1.0.0-rc9"], opts, fake);

    expect(outcomes).toEqual([
      { target: "runc@v1.0.0-rc8", status: "failed", reason: "--source /nonexistent/runc-mirror: no such directory, and not a URL" },
      { target: "runc@v1.0.0-rc2", status: "refused", reason: expect.stringContaining("runc v1.0.0-rc2 is not rebuilt") },
      { target: "runc@v1.0.0-rc9", status: "cached", asset: prior.asset, sha256: prior.binary.sha256 },
    ]);
    // Both buildable targets reached the engine; the refused one did not.
    expect(fake.count("ping")).toBe(2);
    expect(await listDir(opts.outDir)).toEqual(before);
    expect(before).toEqual([prior.asset, `${prior.asset}.json`, `${prior.asset}.log`, `${prior.asset}.sha256`, "SHA256SUMS"].sort());
  });
});
