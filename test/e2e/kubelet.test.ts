import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeletFixture } from "../fixtures/kubelet-fixture.js";
import { bootstrapGoImage, cli, elfByReadelf, kmemLimitWritten, listDir, removeDir, run, tempDir, toolContainers, toolTempEntries } from "../helpers.js";

const ASSET = (tag: string) => `kubelet-${tag}-nokmem-linux-amd64`;

let work: string;
let fixture: string;
let commits: Record<string, string>;
let goImage: string;
let cacheDir: string;

const build = (tag: string, out: string, extra: string[] = []) =>
  cli(["kubelet", tag, "--source", fixture, "--go-image", goImage, "--out", out, "--cache-dir", cacheDir, ...extra]);

const kmemWritten = async (binary: string) => (await kmemLimitWritten(binary, "create-pod-cgroup")).written;
const elf = elfByReadelf;

beforeAll(async () => {
  work = await tempDir("kubelet-e2e");
  fixture = path.join(work, "upstream-kubernetes");
  cacheDir = path.join(work, "cache");
  commits = await createKubeletFixture(fixture);
  // Go 1.15: the registry-less toolchain that kubelet releases up to 1.22 can use.
  goImage = await bootstrapGoImage("bullseye");
});

afterAll(() => removeDir(work));

describe("nokmem-build kubelet, end to end on the real engine", () => {
  it("v1.18.6 (modules + vendor, kmem split): GOFLAGS=-tags=nokmem, kmem off, exact stamp, static", async () => {
    const out = path.join(work, "dist");
    // The fixture's v1.18.6 is not upstream's pinned commit: --allow-unpinned, as for a private fork.
    const res = await build("v1.18.6", out, ["--json", "--allow-unpinned"]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const binary = path.join(out, ASSET("v1.18.6"));
    expect(await kmemWritten(binary)).toBe(false);
    expect((await run(binary, ["--version"])).stdout).toBe("Kubernetes v1.18.6\n");
    expect(await elf(binary)).toEqual({ static: true, glibc: [] });

    const manifest = JSON.parse(await readFile(`${binary}.json`, "utf8"));
    expect(manifest.recipe).toMatchObject({ id: "kubelet-1.18", method: "build-tag" });
    expect(manifest.build.command).toBe(
      `KUBE_GIT_VERSION=v1.18.6 KUBE_GIT_COMMIT=${commits["v1.18.6"]} KUBE_GIT_TREE_STATE=clean KUBE_STATIC_OVERRIDES=kubelet make kubelet GOFLAGS=-tags=nokmem`,
    );
    expect(manifest.build.buildTags).toEqual(["nokmem"]);
    expect(manifest.patch).toBeNull();
    expect(manifest.upstream).toMatchObject({ commit: commits["v1.18.6"], pinned: false, pinnedCommit: "dff82dc0de47299ab66c83c626e08b245ab19037" });
    expect(manifest.toolchain.goVersion).toMatch(/^1\.15\./);
    await run("sha256sum", ["-c", "SHA256SUMS"], { cwd: out });
  });

  it("the common mistake, BUILDTAGS=nokmem, leaves kmem accounting on (so the check above can fail)", async () => {
    const src = path.join(work, "bare-1.18.6");
    await run("git", ["clone", "-q", "--depth=1", "--branch=v1.18.6", `file://${fixture}`, src]);
    const manifest = JSON.parse(await readFile(path.join(work, "dist", `${ASSET("v1.18.6")}.json`), "utf8"));
    await run("docker", [
      "run", "--rm", "--network", "none", "-v", `${src}:/src`, "-w", "/src",
      "-e", "KUBE_GIT_VERSION=v1.18.6", "-e", "KUBE_STATIC_OVERRIDES=kubelet", "-e", "GIT_CONFIG_COUNT=1",
      "-e", "GIT_CONFIG_KEY_0=safe.directory", "-e", "GIT_CONFIG_VALUE_0=*",
      manifest.toolchain.builderImage, "sh", "-c", "make kubelet BUILDTAGS=nokmem && cp -L _output/bin/kubelet /src/stock-kubelet",
    ]);
    expect(await kmemWritten(path.join(src, "stock-kubelet"))).toBe(true);
  });

  it.each([
    ["v1.12.8", "int64", ["strconv", "syscall"]],
    ["v1.11.10", "uint64", ["math", "strconv", "syscall"]],
  ])("%s (GOPATH era, %s stubs): patched, compiles, kmem off, stamp without -dirty", async (tag, type, removed) => {
    const out = path.join(work, "dist");
    const res = await build(tag, out);
    expect(res.code, res.stderr).toBe(0);
    const binary = path.join(out, ASSET(tag));
    expect(await kmemWritten(binary)).toBe(false);
    expect((await run(binary, ["--version"])).stdout).toBe(`Kubernetes ${tag}\n`);
    expect((await elf(binary)).static).toBe(true);

    const patch = await readFile(`${binary}.patch`, "utf8");
    expect(patch).toContain(`func setKernelMemory(path string, kernelMemoryLimit ${type}) error {`);
    for (const imp of removed) expect(patch).toContain(`-\t"${imp}"`);
    const manifest = JSON.parse(await readFile(`${binary}.json`, "utf8"));
    expect(manifest.recipe.method).toBe("source-patch");
    expect(manifest.patch).toMatchObject({
      file: "vendor/github.com/opencontainers/runc/libcontainer/cgroups/fs/memory.go",
      stubbed: ["EnableKernelMemoryAccounting", "setKernelMemory"],
      removedImports: removed,
    });
    const { stdout: patchSum } = await run("sha256sum", [`${binary}.patch`]);
    expect(manifest.patch.sha256).toBe(patchSum.split(" ")[0]);
    // Unpinned by design (no pin for this tag): recorded, without the loud warning pinned components get.
    expect(manifest.upstream).toMatchObject({ pinned: false, pinnedCommit: null });
    expect(manifest.warnings.join("\n")).not.toMatch(/UNPINNED/);
    await run("sha256sum", ["-c", "SHA256SUMS"], { cwd: out });
  });

  it("the cache stays pristine after a patched build: a bare clone (no working tree to drift) whose objects check out", async () => {
    const [dir] = await listDir(path.join(cacheDir, "sources"));
    const clone = path.join(cacheDir, "sources", dir!, "v1.12.8");
    expect((await run("git", ["-C", clone, "rev-parse", "--is-bare-repository"])).stdout.trim()).toBe("true");
    expect((await run("git", ["-C", clone, "rev-parse", "HEAD"])).stdout.trim()).toBe(commits["v1.12.8"]);
    await run("git", ["-C", clone, "fsck", "--no-dangling"]);
  });

  it("fails loudly, naming the file and function, when the patch anchor is missing; writes nothing", async () => {
    const out = path.join(work, "dist-anchor");
    const tempsBefore = await toolTempEntries();
    const res = await build("v1.13.12", out);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      "cannot patch vendor/github.com/opencontainers/runc/libcontainer/cgroups/fs/memory.go: function setKernelMemory was not found",
    );
    expect(existsSync(out)).toBe(false);
    expect(await toolTempEntries()).toEqual(tempsBefore);
  });

  it("refuses a Go that compiles kubelets which crash at run time, naming the reason and the fix", async () => {
    const bookworm = await bootstrapGoImage("bookworm");
    const out = path.join(work, "dist-newgo");
    const res = await cli(["kubelet", "v1.18.6", "--allow-unpinned", "--source", fixture, "--go-image", bookworm, "--out", out, "--cache-dir", cacheDir]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Go 1\.19\.\d+ .* is too new for kubelet v1\.18\.6: .*reflect2.*#104949.*--suite bullseye/);
    expect(existsSync(out)).toBe(false);
    expect(await toolContainers()).toEqual([]);
  });

  it("checks glibc before writing: a dynamic kubelet passes 2.17 and is refused for an older target, naming the symbol", async () => {
    const out = path.join(work, "dist-dynamic");
    const ok = await build("v1.18.6", out, ["--link", "dynamic", "--json", "--allow-unpinned"]);
    expect(ok.code, ok.stdout).toBe(0);
    const binary = path.join(out, ASSET("v1.18.6"));
    const seen = await elf(binary);
    expect(seen.static).toBe(false);
    const manifest = JSON.parse(await readFile(`${binary}.json`, "utf8"));
    expect(manifest.binary.linkage).toBe("dynamic");
    expect(seen.glibc).toContain(manifest.binary.maxGlibc);

    const refusedOut = path.join(work, "dist-dynamic-old");
    const res = await build("v1.18.6", refusedOut, ["--link", "dynamic", "--target-glibc", "2.2", "--allow-unpinned"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/the binary needs \w+@GLIBC_2\.[\d.]+.*newer than the target glibc 2\.2: build it static, or use a toolchain base with an older glibc/);
    expect(existsSync(refusedOut)).toBe(false);
  });

  it("reports a compiler killed for memory as such, with the flag to raise", async () => {
    const res = await build("v1.12.8", path.join(work, "dist-oom"), ["--memory", "24m"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/the build ran out of memory \(compiler killed at the --memory limit of 24m; the source tree, held in memory, counts too\): raise --memory/);
    expect(await toolContainers()).toEqual([]);
  });

  it.each([
    ["v1.7.16", 2, /kubelet v1\.7\.16 is not rebuilt: .*nothing to disable/],
    ["v1.21.2", 2, /kubelet v1\.21\.2 is not rebuilt: .*rc95.*needs no rebuild/],
    ["v1.22.0", 2, /kubelet v1\.22\.0 is not rebuilt: .*rc95 or later.*needs no rebuild/],
    ["v1.27.3", 2, /needs no rebuild/],
    ["1.18", 2, /'1\.18' is not a kubelet version: expected a release tag such as/],
    ["v1.18.6-dirty!", 2, /is not a kubelet version/],
  ])("refuses %s before any heavy work (exit %i)", async (tag, code, message) => {
    const out = path.join(work, "dist-refused");
    const res = await cli(["kubelet", tag, "--out", out, "--cache-dir", cacheDir], { DOCKER_HOST: "unix:///nonexistent.sock" });
    expect(res.code).toBe(code);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a pinned release whose commit differs from the pin", async () => {
    const out = path.join(work, "dist-pin");
    const res = await build("v1.18.6", out);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`serves kubelet v1.18.6 at commit ${commits["v1.18.6"]}, but the recipe pins dff82dc0de47299ab66c83c626e08b245ab19037`);
    expect(existsSync(out)).toBe(false);
  });

  it("a tag the source does not have fails at the clone, naming the tag and the source", async () => {
    const res = await build("v1.18.7", path.join(work, "dist-notag"));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`tag v1.18.7 not found at ${fixture}`);
  });
});
