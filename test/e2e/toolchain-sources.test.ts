import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuncFixture } from "../fixtures/runc-fixture.js";
import { bootstrapGoImage, cli, kmemLimitWritten, listDir, removeDir, run, tempDir, toolContainers, toolTempEntries } from "../helpers.js";
import { freePort, pushAs, startRegistry, type LocalRegistry } from "./registry.js";

// The default toolchain path, with no --go-image: the bookworm base from the engine,
// a real registry (docker-registry on 127.0.0.1) or debootstrap, and the same bytes either way.
const ASSET = "runc-v1.0.0-rc9-nokmem-linux-amd64";

let work: string;
let fixture: string;
let registry: LocalRegistry;

const imageId = async (ref: string) =>
  (await run("docker", ["image", "inspect", "-f", "{{.Id}}", ref]).catch(() => ({ stdout: "" }))).stdout.trim();

/** Removes every bookworm toolchain image the tool makes or uses: the base, the Go image and builders on it. */
async function removeBookwormToolchain(): Promise<void> {
  const goId = (await imageId("nokmem-build/go:bookworm")).replace(/^sha256:/, "").slice(0, 12);
  const { stdout } = await run("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}", "nokmem-build/builder"]);
  const builders = stdout.split("\n").filter((ref) => goId && ref.endsWith(goId));
  for (const ref of [...builders, "nokmem-build/go:bookworm", "nokmem-build/debian:bookworm", "debian:bookworm"]) {
    await run("docker", ["rmi", "-f", ref]).catch(() => undefined);
  }
  expect(await imageId("nokmem-build/debian:bookworm")).toBe("");
  expect(await imageId("nokmem-build/go:bookworm")).toBe("");
}

const build = (out: string, extra: string[], env: NodeJS.ProcessEnv = {}) =>
  cli(["runc", "v1.0.0-rc9", "--source", fixture, "--allow-unpinned", "--out", out, "--cache-dir", path.join(work, "cache"), "--json", ...extra], env);

beforeAll(async () => {
  work = await tempDir("toolchain");
  fixture = path.join(work, "upstream-runc");
  await createRuncFixture(fixture);
  registry = await startRegistry();
  // The registry holds debian:bookworm made from debootstrap, as a mirror or private registry would.
  await bootstrapGoImage("bookworm");
  await pushAs(registry, "nokmem-build/debian:bookworm", "debian:bookworm");
});

afterAll(async () => {
  // The tool pulled the base by the registry's name: that tag goes with the registry (the image stays as nokmem-build/debian).
  if (registry) await run("docker", ["rmi", `${registry.address}/library/debian:bookworm`]).catch(() => undefined);
  await registry?.stop();
  await removeDir(work);
});

describe("the toolchain comes from wherever it can, with no --go-image", () => {
  const sha: Record<string, string> = {};

  it("with no registry and no debootstrap: exit 1, one line naming the three fixes, nothing written", async () => {
    await removeBookwormToolchain();
    const out = path.join(work, "dist-none");
    const temps = await toolTempEntries();
    // debootstrap lives in /usr/sbin: without it on PATH it is "not installed"; the registry port is closed.
    const res = await build(out, ["--registry", `127.0.0.1:${await freePort()}/library`], { PATH: "/usr/local/bin:/usr/bin:/bin" });
    expect(res.code, res.stdout + res.stderr).toBe(1);
    const error = JSON.parse(res.stdout).error as string;
    expect(error).not.toContain("\n");
    expect(error).toMatch(/no Debian bookworm base image: pulling 127\.0\.0\.1:\d+\/library\/debian:bookworm failed .*connection refused.*debootstrap is not installed/);
    expect(error).toMatch(/--registry PREFIX .*debootstrap .*--go-image IMAGE/);
    expect(existsSync(out)).toBe(false);
    expect(await toolContainers()).toEqual([]);
    expect(await toolTempEntries()).toEqual(temps);
  });

  it("pulls debian:bookworm through --registry, makes the toolchain, builds a kmem-off runc", async () => {
    await removeBookwormToolchain();
    const out = path.join(work, "dist-registry");
    const started = Date.now();
    const res = await build(out, ["--registry", `${registry.address}/library`]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    console.log(`registry path: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const manifest = JSON.parse(await readFile(path.join(out, `${ASSET}.json`), "utf8"));
    expect(manifest.toolchain).toMatchObject({ suite: "bookworm", goImage: "nokmem-build/go:bookworm", base: { origin: "registry", from: `${registry.address}/library/debian:bookworm` } });
    expect(manifest.toolchain.base.digest).toMatch(new RegExp(`^${registry.address}/library/debian@sha256:[0-9a-f]{64}$`));
    // What built the bytes, to the exact Debian package version.
    expect(manifest.toolchain.packages).toMatchObject({ gcc: expect.stringMatching(/^4:12\./), "libc6-dev": expect.stringMatching(/^2\.36-/), "libseccomp-dev": expect.any(String), "golang-1.19-go": expect.stringMatching(/^1\.19\./) });
    expect(await kmemLimitWritten(path.join(out, ASSET), "create-memory-cgroup")).toEqual({ written: false });
    // The manifest lists every other file it was published with, by sha256, as sha256sum computes it.
    const { stdout: sums } = await run("sha256sum", [ASSET, `${ASSET}.sha256`, `${ASSET}.log`], { cwd: out });
    const listed = new Map(sums.trim().split("\n").map((l) => [l.split("  ")[1]!, l.split("  ")[0]!] as const));
    expect(manifest.files).toEqual([
      { name: ASSET, kind: "binary", sha256: listed.get(ASSET) },
      { name: `${ASSET}.sha256`, kind: "checksum", sha256: listed.get(`${ASSET}.sha256`) },
      { name: `${ASSET}.log`, kind: "log", sha256: listed.get(`${ASSET}.log`) },
    ]);
    sha.registry = manifest.binary.sha256;
    expect(await toolContainers()).toEqual([]);
  });

  it("with no registry reachable, makes the base with debootstrap, and the binary is byte-identical", async () => {
    await removeBookwormToolchain();
    const out = path.join(work, "dist-debootstrap");
    const started = Date.now();
    // A registry that does not answer, wherever the tests run (here no registry is reachable at all).
    const res = await build(out, ["--registry", `127.0.0.1:${await freePort()}/library`]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    console.log(`debootstrap path: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const manifest = JSON.parse(await readFile(path.join(out, `${ASSET}.json`), "utf8"));
    expect(manifest.toolchain.base).toMatchObject({ origin: "debootstrap", digest: null });
    expect(manifest.binary.sha256).toBe(sha.registry);
    console.log(`sha256 on both paths: ${manifest.binary.sha256}`);
    expect(await listDir(out)).toContain(ASSET);
  });

  it("the next build finds the base and Go image on the engine", async () => {
    const res = await build(path.join(work, "dist-present"), []);
    expect(res.code, res.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(work, "dist-present", `${ASSET}.json`), "utf8"));
    expect(manifest.toolchain.base.origin).toBe("debootstrap");
    expect(manifest.binary.sha256).toBe(sha.registry);
  });
});

describe("the Go window is checked before any clone", () => {
  const refused = async (args: string[], message: RegExp) => {
    const cache = path.join(work, `cache-refused-${Math.random().toString(36).slice(2)}`);
    const out = path.join(work, "dist-refused");
    const res = await cli([...args, "--source", fixture, "--out", out, "--cache-dir", cache]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr.trim().split("\n").filter((l) => l.startsWith("nokmem-build: error:"))).toHaveLength(1);
    expect(res.stderr).toMatch(message);
    expect(existsSync(path.join(cache, "sources"))).toBe(false);
    expect(existsSync(out)).toBe(false);
  };

  it("refuses a suite whose Go is too new (kubelet v1.18.6 on bookworm's Go 1.19: reflect2)", () =>
    refused(["kubelet", "v1.18.6", "--suite", "bookworm"], /--suite bookworm ships Go 1\.19, too new for kubelet v1\.18\.6: .*#104949.*--suite bullseye/));

  it("refuses a suite whose Go is too old (kubelet v1.21.0 needs Go 1.16)", () =>
    refused(["kubelet", "v1.21.0", "--suite", "bullseye"], /--suite bullseye ships Go 1\.15, older than kubelet v1\.21\.0 accepts: it needs go1\.16\.0 or newer \(hack\/lib\/golang\.sh/));

  it("refuses a release no Debian suite can build, naming --go-image", () =>
    refused(["kubelet", "v1.21.1"], /kubelet v1\.21\.1 has no Debian toolchain: it needs Go 1\.16[.\d]* to 1\.17\.x .*--go-image/));

  it("leaves such releases out of the release matrix, saying why", async () => {
    const res = await cli(["versions", "--published"]);
    expect(res.code).toBe(0);
    const matrix = JSON.parse(res.stdout) as Array<{ component: string; version: string; suite: string }>;
    expect(matrix.find((t) => t.version === "v1.21.1")).toBeUndefined();
    expect(matrix.find((t) => t.version === "v1.18.6")).toMatchObject({ suite: "bullseye" });
    expect(matrix.find((t) => t.version === "v1.0.0-rc9")).toMatchObject({ suite: "bookworm" });
    expect(res.stderr).toMatch(/not published: kubelet v1\.21\.1: no Debian suite ships Go 1\.16/);
  });
});
