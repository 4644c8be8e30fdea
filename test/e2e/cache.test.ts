import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuncFixture } from "../fixtures/runc-fixture.js";
import { bootstrapGoImage, cli, removeDir, run, tempDir, toolContainers } from "../helpers.js";

const ASSET = (tag: string) => `runc-${tag}-nokmem-linux-amd64`;
/**
 * This file's own cache scope: its volumes are named and labelled by it, so a
 * fresh (cold) volume is guaranteed, and `cache prune` here touches only
 * volumes this file made, never those of other runs sharing the engine.
 */
const SCOPE = `e2e-cache-${randomBytes(4).toString("hex")}`;
const ENV = { NOKMEM_BUILD_CACHE_SCOPE: SCOPE };

let work: string;
let fixture: string;
let goImage: string;
let cacheDir: string;

const build = (tag: string, out: string, extra: string[] = []) =>
  cli(["runc", tag, "--source", fixture, "--allow-unpinned", "--go-image", goImage, "--out", out, "--cache-dir", cacheDir, "--json", ...extra], ENV);

const manifestOf = async (out: string, tag: string) => JSON.parse(await readFile(path.join(out, `${ASSET(tag)}.json`), "utf8"));

/** The volumes carrying this file's scope label, as the docker CLI sees them. */
async function scopeVolumes(): Promise<string[]> {
  const { stdout } = await run("docker", ["volume", "ls", "-q", "--filter", `label=io.nokmem-build.scope=${SCOPE}`]);
  return stdout.split("\n").filter(Boolean);
}

beforeAll(async () => {
  work = await tempDir("cache-e2e");
  fixture = path.join(work, "upstream-runc");
  cacheDir = path.join(work, "cache");
  await createRuncFixture(fixture);
  goImage = await bootstrapGoImage("bookworm");
});

afterAll(async () => {
  // Whatever a failed test left: only this file's scope.
  for (const v of await scopeVolumes()) await run("docker", ["volume", "rm", "-f", v]).catch(() => undefined);
  await removeDir(work);
});

describe("the Go build cache volume, end to end on the real engine", () => {
  const cold = () => path.join(work, "dist-cold");
  const warm = () => path.join(work, "dist-warm");

  it("--no-cache builds without any volume", async () => {
    const res = await build("v1.0.0-rc9", cold(), ["--no-cache"]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect((await manifestOf(cold(), "v1.0.0-rc9")).build.goCache).toBe("off");
    expect(await scopeVolumes()).toEqual([]);
  });

  it("another tag makes the toolchain's volume (cold), labelled and named after the builder image, and fills it", async () => {
    const res = await build("v1.0.0-rc10", warm());
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const manifest = await manifestOf(warm(), "v1.0.0-rc10");
    expect(manifest.build.goCache).toBe("cold");
    const volume = `nokmem-build-gocache-${SCOPE}-${manifest.toolchain.builderImageId.replace(/^sha256:/, "").slice(0, 12)}`;
    expect(await scopeVolumes()).toEqual([volume]);
    const { stdout } = await run("docker", ["volume", "inspect", volume, "--format", "{{json .Labels}}"]);
    expect(JSON.parse(stdout)).toMatchObject({
      "io.nokmem-build": "true",
      "io.nokmem-build.cache": "go-build",
      "io.nokmem-build.scope": SCOPE,
      "io.nokmem-build.builder": manifest.toolchain.builderImage,
    });
    // The compile left its Go build cache in the volume.
    const { stdout: entries } = await run("docker", ["run", "--rm", "--network", "none", "-v", `${volume}:/c`, manifest.toolchain.builderImage, "sh", "-c", "find /c -type f | wc -l"]);
    expect(Number(entries.trim())).toBeGreaterThan(10);
    expect(await toolContainers()).toEqual([]);
  });

  it("rebuilding rc9 with --force on the warm cache gives the cold build's bytes", async () => {
    const coldSha = (await manifestOf(cold(), "v1.0.0-rc9")).binary.sha256;
    const res = await build("v1.0.0-rc9", cold(), ["--force"]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).status).toBe("built");
    const manifest = await manifestOf(cold(), "v1.0.0-rc9");
    expect(manifest.build.goCache).toBe("warm");
    expect(manifest.binary.sha256).toBe(coldSha);
    const { stdout } = await run("sha256sum", [path.join(cold(), ASSET("v1.0.0-rc9"))]);
    expect(stdout.split(" ")[0]).toBe(coldSha);
  });

  it("a rerun with nothing changed builds nothing: one line, the artifacts untouched", async () => {
    const binary = path.join(cold(), ASSET("v1.0.0-rc9"));
    const before = await stat(binary);
    const builtAt = (await manifestOf(cold(), "v1.0.0-rc9")).builtAt;

    const text = await cli(["runc", "v1.0.0-rc9", "--source", fixture, "--allow-unpinned", "--go-image", goImage, "--out", cold(), "--cache-dir", cacheDir], ENV);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe(`${ASSET("v1.0.0-rc9")}: cached (artifacts in ${cold()} still match; --force rebuilds)\n`);

    const json = await build("v1.0.0-rc9", cold());
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, status: "cached", asset: ASSET("v1.0.0-rc9") });
    expect((await stat(binary)).mtimeMs).toBe(before.mtimeMs);
    expect((await manifestOf(cold(), "v1.0.0-rc9")).builtAt).toBe(builtAt);
  });

  it("cache list and prune --dry-run show the volume and the source checkouts with sizes; prune removes them", async () => {
    const [volume] = await scopeVolumes();
    const list = await cli(["cache", "list", "--cache-dir", cacheDir, "--json"], ENV);
    expect(list.code, list.stdout + list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout);
    expect(listed.entries).toContainEqual(expect.objectContaining({ kind: "volume", name: volume, size: expect.any(Number) }));
    expect(listed.entries.find((e: { name: string }) => e.name === volume).size).toBeGreaterThan(0);
    const checkouts = listed.entries.filter((e: { kind: string }) => e.kind === "sources").map((e: { name: string }) => path.basename(e.name));
    expect(checkouts.sort()).toEqual(["v1.0.0-rc10", "v1.0.0-rc9"]);

    const dry = await cli(["cache", "prune", "--dry-run", "--cache-dir", cacheDir, "--json"], ENV);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).entries.map((e: { name: string; removed: boolean }) => [e.name, e.removed])).toEqual(
      listed.entries.map((e: { name: string }) => [e.name, false]),
    );
    expect(await scopeVolumes()).toEqual([volume]);
    expect(existsSync(path.join(cacheDir, "sources"))).toBe(true);

    const prune = await cli(["cache", "prune", "--cache-dir", cacheDir, "--json"], ENV);
    expect(prune.code, prune.stdout + prune.stderr).toBe(0);
    const pruned = JSON.parse(prune.stdout);
    expect(pruned.entries.every((e: { removed: boolean }) => e.removed)).toBe(true);
    expect(pruned.freedBytes).toBeGreaterThan(0);
    expect(await scopeVolumes()).toEqual([]);
    const left = await cli(["cache", "list", "--cache-dir", cacheDir, "--json"], ENV);
    expect(JSON.parse(left.stdout).entries).toEqual([]);
  });
});
