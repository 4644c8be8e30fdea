import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuncFixture, moveTag } from "../fixtures/runc-fixture.js";
import { startSshEngine } from "./ssh-engine.js";
import { bootstrapGoImage, cli, elfByReadelf, kmemLimitWritten, listDir, removeDir, run, tempDir, toolContainers, toolTempEntries } from "../helpers.js";

const ASSET = (tag: string) => `runc-${tag}-nokmem-linux-amd64`;

let work: string;
let fixture: string;
let commits: Record<string, string>;
let goImage: string;
let cacheDir: string;

/** Builds with the fixture as --source; every fixture commit differs from the real pins, hence --allow-unpinned. */
const build = (tag: string, out: string, extra: string[] = []) =>
  cli(["runc", tag, "--source", fixture, "--allow-unpinned", "--go-image", goImage, "--out", out, "--cache-dir", cacheDir, ...extra]);

const kmemWritten = (binary: string) => kmemLimitWritten(binary, "create-memory-cgroup");

const isStatic = async (binary: string) => (await elfByReadelf(binary)).static;

beforeAll(async () => {
  work = await tempDir("runc-e2e");
  fixture = path.join(work, "upstream-runc");
  cacheDir = path.join(work, "cache");
  commits = await createRuncFixture(fixture);
  goImage = await bootstrapGoImage("bookworm");
});

afterAll(async () => {
  await removeDir(work);
});

describe("nokmem-build runc, end to end on the real engine", () => {
  it("builds the GOPATH-era v1.0.0-rc9: static, kmem accounting off, stamped, checksummed", async () => {
    const out = path.join(work, "dist-rc9");
    const res = await build("v1.0.0-rc9", out, ["--json"]);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const result = JSON.parse(res.stdout);
    const asset = ASSET("v1.0.0-rc9");
    expect(result.asset).toBe(asset);
    expect(await listDir(out)).toEqual(["SHA256SUMS", asset, `${asset}.json`, `${asset}.log`, `${asset}.sha256`]);

    const binary = path.join(out, asset);
    expect(await kmemWritten(binary)).toEqual({ written: false });
    expect(await isStatic(binary)).toBe(true);
    const { stdout: version } = await run(binary, ["--version"]);
    expect(version).toContain("runc version 1.0.0-rc9\n");
    expect(version).toContain(`commit: ${commits["v1.0.0-rc9"]}\n`);
    expect(version).not.toContain("dirty");
    expect(version).toMatch(/libseccomp: 2\.\d+\.\d+/); // the seccomp tag took effect and linked statically

    await run("sha256sum", ["-c", "SHA256SUMS"], { cwd: out });
    await run("sha256sum", ["-c", `${asset}.sha256`], { cwd: out });
    const manifest = JSON.parse(await readFile(path.join(out, `${asset}.json`), "utf8"));
    expect(manifest.upstream).toMatchObject({ commit: commits["v1.0.0-rc9"], pinned: false, pinnedCommit: "d736ef14f0288d6993a1845745d6756cfc9ddd5a" });
    expect(manifest.build.buildTags).toEqual(["seccomp", "nokmem"]);
    expect(manifest.build.env.GO111MODULE).toBe("off");
    expect(manifest.toolchain.goVersion).toMatch(/^1\.19\./);
    expect(manifest.toolchain.builderImageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(manifest.binary).toMatchObject({ sha256: result.sha256, linkage: "static" });
    expect(manifest.warnings.join("\n")).toMatch(/UNPINNED BUILD/);
    expect(manifest.warnings.join("\n")).toMatch(/Go 1\.19\.\d+ differs from the Go 1\.12/);
    expect(await readFile(path.join(out, `${asset}.log`), "utf8")).toContain("make static BUILDTAGS='seccomp nokmem'");
    expect(await toolContainers()).toEqual([]);
  });

  it("the same source without the nokmem tag does write the kmem limit (the check above can fail)", async () => {
    // A bare `docker run … make static` of the same tag in the same builder image, as an operator would.
    const out = path.join(work, "dist-rc9");
    const { builderImage } = JSON.parse(await readFile(path.join(out, `${ASSET("v1.0.0-rc9")}.json`), "utf8")).toolchain;
    const stock = path.join(work, "stock");
    await mkdir(stock);
    const src = path.join(work, "bare-rc9");
    await run("git", ["clone", "-q", "--depth=1", "--branch=v1.0.0-rc9", `file://${fixture}`, src]);
    await run("docker", [
      "run", "--rm", "--network", "none",
      "-v", `${src}:/go/src/github.com/opencontainers/runc`,
      "-v", `${stock}:/stock`, "-e", "GO111MODULE=off", "-e", "GOPATH=/go",
      "-w", "/go/src/github.com/opencontainers/runc", builderImage,
      "sh", "-c", "make static BUILDTAGS=seccomp && cp runc /stock/runc && rm runc",
    ]);
    expect(await kmemWritten(path.join(stock, "runc"))).toEqual({ written: true, value: "-1" });
  });

  it("builds the modules-era v1.0.0-rc93 and merges SHA256SUMS across builds", async () => {
    const out = path.join(work, "dist-rc9");
    const res = await build("v1.0.0-rc93", out);
    expect(res.code, res.stderr).toBe(0);
    const binary = path.join(out, ASSET("v1.0.0-rc93"));
    expect(await kmemWritten(binary)).toEqual({ written: false });
    expect(await isStatic(binary)).toBe(true);
    const { stdout: version } = await run(binary, ["--version"]);
    expect(version).toContain(`commit: ${commits["v1.0.0-rc93"]}\n`);
    const sums = await readFile(path.join(out, "SHA256SUMS"), "utf8");
    expect(sums).toContain(`  ${ASSET("v1.0.0-rc9")}\n`);
    expect(sums).toContain(`  ${ASSET("v1.0.0-rc93")}\n`);
    await run("sha256sum", ["-c", "SHA256SUMS"], { cwd: out });
    const manifest = JSON.parse(await readFile(`${binary}.json`, "utf8"));
    expect(manifest.build.env.GO111MODULE).toBe("on");
    expect(manifest.recipe.id).toBe("runc-modules");
  });

  it("gives the same sha256 when the same tag is built twice (source from the cache)", async () => {
    const first = JSON.parse(await readFile(path.join(work, "dist-rc9", `${ASSET("v1.0.0-rc9")}.json`), "utf8"));
    const out = path.join(work, "dist-again");
    const res = await build("v1.0.0-rc9", out);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout + res.stderr).toMatch(/cached: v1\.0\.0-rc9/);
    const second = JSON.parse(await readFile(path.join(out, `${ASSET("v1.0.0-rc9")}.json`), "utf8"));
    expect(second.binary.sha256).toBe(first.binary.sha256);
  });

  it("builds v1.0.0-rc90, upstream's second tag on the rc10 commit, under its own name with rc10's stamp", async () => {
    const out = path.join(work, "dist-rc90");
    const res = await build("v1.0.0-rc90", out, ["--json"]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const binary = path.join(out, ASSET("v1.0.0-rc90"));
    const { stdout } = await run(binary, ["--version"]);
    expect(stdout).toContain("runc version 1.0.0-rc10\n");
    expect(stdout).toContain(`commit: ${commits["v1.0.0-rc10"]}\n`);
    const manifest = JSON.parse(await readFile(`${binary}.json`, "utf8"));
    expect(manifest.version).toBe("v1.0.0-rc90");
    expect(manifest.warnings.join("\n")).toContain("v1.0.0-rc90 is the same upstream code as 1.0.0-rc10");
    expect(await kmemWritten(binary)).toEqual({ written: false });
  });

  it("refuses to publish a binary that enables kmem accounting (a Makefile that drops BUILDTAGS), writing nothing", async () => {
    const repo = path.join(work, "upstream-runc-dropped-tags");
    await createRuncFixture(repo, [{ tag: "v1.0.0-rc7", layout: "gopath", disabledSetKernelMemory: "error", dropsBuildTags: true }]);
    const out = path.join(work, "dist-dropped-tags");
    const temps = await toolTempEntries();
    const res = await cli(["runc", "v1.0.0-rc7", "--source", repo, "--allow-unpinned", "--go-image", goImage, "--out", out, "--cache-dir", cacheDir]);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stderr).toMatch(/nokmem-build: error: the built binary enables kmem accounting \(libcontainer\/cgroups\/fs\/kmem\.go is compiled in .*nothing was written/);
    expect(existsSync(out)).toBe(false);
    expect(await toolContainers()).toEqual([]);
    expect(await toolTempEntries()).toEqual(temps);
  });

  it("resolves v1.0.0-rc10 (which sorts before rc6 as a plain semver pre-release) to the GOPATH recipe", async () => {
    const out = path.join(work, "dist-rc10");
    const res = await build("v1.0.0-rc10", out);
    expect(res.code, res.stderr).toBe(0);
    const binary = path.join(out, ASSET("v1.0.0-rc10"));
    expect(await kmemWritten(binary)).toEqual({ written: false });
    expect((await run(binary, ["--version"])).stdout).toContain("runc version 1.0.0-rc10\n");
  });

  it("refuses a tag whose commit differs from the pin, leaving nothing behind", async () => {
    const out = path.join(work, "dist-refused");
    const tempsBefore = await toolTempEntries();
    const res = await cli(["runc", "v1.0.0-rc9", "--source", fixture, "--go-image", goImage, "--out", out, "--cache-dir", cacheDir]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`serves runc v1.0.0-rc9 at commit ${commits["v1.0.0-rc9"]}, but the recipe pins d736ef14f0288d6993a1845745d6756cfc9ddd5a`);
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(out)).toBe(false);
    expect(await toolTempEntries()).toEqual(tempsBefore);
    expect(await toolContainers()).toEqual([]);
  });

  it("builds the tag as the source serves it now, not a stale cached copy, when a tag moves", async () => {
    const moved = await moveTag(fixture, "v1.0.0-rc10");
    const out = path.join(work, "dist-moved");
    const res = await build("v1.0.0-rc10", out, ["--json"]);
    expect(res.code, res.stdout).toBe(0);
    expect(JSON.parse(res.stdout).manifest.upstream.commit).toBe(moved);
  });

  it("a failed compile exits 1 naming the command, and leaves no container, artifact or temp directory", async () => {
    const out = path.join(work, "dist-existing");
    await mkdir(out);
    await writeFile(path.join(out, "SHA256SUMS"), "keep me\n");
    const tempsBefore = await toolTempEntries();
    const res = await build("v1.0.0-rc8", out);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/`make static BUILDTAGS='seccomp nokmem'` failed in the build container \(exit 2\)/);
    expect(res.stderr).toMatch(/main\.go:\d+:\d+: cannot use "this tag does not compile"/); // the compiler's own words
    const logPath = res.stderr.match(/full log: (\S+\.log)/)?.[1];
    expect(logPath && existsSync(logPath)).toBe(true);
    expect(await listDir(out)).toEqual(["SHA256SUMS"]);
    expect(await readFile(path.join(out, "SHA256SUMS"), "utf8")).toBe("keep me\n");
    expect(await toolTempEntries()).toEqual(tempsBefore);
    expect(await toolContainers()).toEqual([]);
  });

  it("fails at the clone, naming the tag and the source, when the tag does not exist there", async () => {
    const out = path.join(work, "dist-missing");
    const res = await build("v1.0.0-rc7", out);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`tag v1.0.0-rc7 not found at ${fixture}`);
    expect(existsSync(out)).toBe(false);
  });

  it("removes the build container and writes nothing when interrupted with Ctrl-C", async () => {
    const out = path.join(work, "dist-interrupted");
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, [
      path.join(import.meta.dirname, "../../lib/cli.js"),
      "runc", "v1.0.0-rc93", "--source", fixture, "--allow-unpinned", "--go-image", goImage, "--out", out, "--cache-dir", cacheDir,
    ], { env: { ...process.env, CI: "true" } });
    let stderr = "";
    child.stderr.on("data", (b) => (stderr += b));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    // Wait until the compile container is running, then interrupt.
    for (let i = 0; i < 600; i++) {
      const { stdout } = await run("docker", ["ps", "--no-trunc", "--filter", "label=io.nokmem-build", "--format", "{{.Command}}"]);
      if (stdout.includes("make static")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await toolContainers()).toHaveLength(1);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toContain("interrupted by SIGINT");
    expect(await toolContainers()).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it("says how to get a Go image when the recipe's cannot be pulled (no registry here)", async () => {
    const out = path.join(work, "dist-nopull");
    const res = await cli(["runc", "v1.0.0-rc9", "--source", fixture, "--allow-unpinned", "--go-image", "nokmem-build-test/no-such-image:1", "--out", out, "--cache-dir", cacheDir]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cannot pull the Go image nokmem-build-test\/no-such-image:1 .*run `nokmem-build toolchain bootstrap` and pass the image it prints with --go-image/);
    expect(existsSync(out)).toBe(false);
  });

  it("says plainly when no Docker engine answers", async () => {
    const res = await cli(["runc", "--out", path.join(work, "dist-noengine"), "--cache-dir", cacheDir], {
      DOCKER_HOST: `unix://${path.join(work, "no-such.sock")}`,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/error: no Docker engine answers at unix:\/\/.*no-such\.sock .*start dockerd, or point DOCKER_HOST at an engine/);
  });

  it.each([
    ["v1.0.0-rc5", /no nokmem build tag .* build v1\.0\.0-rc9 instead/],
    ["v1.0.0-rc94", /upstream removed kernel-memory accounting in v1\.0\.0-rc94/],
    ["v1.1.0", /upstream removed kernel-memory accounting/],
    ["latest", /'latest' is not a runc version: expected a release tag such as v1\.0\.0-rc9/],
    ["v1.0.0-rc50", /not a known release .* --allow-unpinned/],
  ])("refuses %s with exit 2, one line, and no trace", async (version, message) => {
    const out = path.join(work, "dist-usage");
    const tempsBefore = await toolTempEntries();
    const res = await cli(["runc", version, "--out", out, "--cache-dir", cacheDir]);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
    expect(await toolTempEntries()).toEqual(tempsBefore);
  });

  it.each([
    [["--memory", "lots"], /--memory lots: expected a size/],
    [["--cpus", "-1"], /--cpus -1: expected a positive number/],
    [["--target-glibc", "2"], /--target-glibc 2: expected a glibc version/],
    [["--frobnicate"], /unknown option '--frobnicate'/],
  ])("rejects bad flags %j with exit 2", async (flags, message) => {
    const res = await cli(["runc", ...flags]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
  });
});

describe("the Docker layer, as users reach it", () => {
  it("builds through DOCKER_HOST=tcp://… the same way (no bind mounts, tar streams only)", async () => {
    // A TCP endpoint in front of the local engine: to the client, a remote engine. Each direction
    // closes on its own, as on a real TCP engine: the source's end (the client's half-close) must not
    // cut the build's output coming back.
    const proxy = net.createServer({ allowHalfOpen: true }, (client) => {
      const engine = net.connect({ path: "/var/run/docker.sock", allowHalfOpen: true });
      client.pipe(engine).pipe(client);
      const close = () => (client.destroy(), engine.destroy());
      client.on("error", close);
      engine.on("error", close);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as { port: number }).port;
    try {
      const out = path.join(work, "dist-tcp");
      const res = await cli(
        ["runc", "v1.0.0-rc9", "--source", fixture, "--allow-unpinned", "--go-image", goImage, "--out", out, "--cache-dir", path.join(work, "cache-tcp")],
        { DOCKER_HOST: `tcp://127.0.0.1:${port}` },
      );
      expect(res.code, res.stderr).toBe(0);
      const manifest = JSON.parse(await readFile(path.join(out, `${ASSET("v1.0.0-rc9")}.json`), "utf8"));
      expect(manifest.toolchain.engine).toBe(`tcp://127.0.0.1:${port}`);
      expect(await kmemWritten(path.join(out, ASSET("v1.0.0-rc9")))).toEqual({ written: false });
      // What the build printed after its source went in came back over the same connection.
      expect(await readFile(path.join(out, `${ASSET("v1.0.0-rc9")}.log`), "utf8")).toMatch(/go build -tags "seccomp nokmem/);
    } finally {
      proxy.close();
    }
  });

  it("builds through DOCKER_HOST=ssh://… the same way (the engine reached by `docker system dial-stdio` over ssh)", async () => {
    const ssh = await startSshEngine(path.join(work, "ssh"));
    try {
      const out = path.join(work, "dist-ssh");
      const res = await cli(
        ["runc", "v1.0.0-rc9", "--source", fixture, "--allow-unpinned", "--go-image", goImage, "--out", out, "--cache-dir", path.join(work, "cache-ssh")],
        ssh.env,
      );
      expect(res.code, res.stderr).toBe(0);
      const manifest = JSON.parse(await readFile(path.join(out, `${ASSET("v1.0.0-rc9")}.json`), "utf8"));
      expect(manifest.toolchain.engine).toBe(ssh.env.DOCKER_HOST);
      expect(await kmemWritten(path.join(out, ASSET("v1.0.0-rc9")))).toEqual({ written: false });
      // The source went in on the hijacked connection, and the build's output came back on it.
      expect(await readFile(path.join(out, `${ASSET("v1.0.0-rc9")}.log`), "utf8")).toMatch(/go build -tags "seccomp nokmem/);
    } finally {
      ssh.stop();
    }
  });

  it("sweeps containers left by a run that died, and leaves live runs' containers alone", async () => {
    const { stdout: host } = await run("hostname");
    const labels = (pid: number) => ["--label", "io.nokmem-build=true", "--label", `io.nokmem-build.host=${host.trim()}`, "--label", `io.nokmem-build.pid=${pid}`];
    const { stdout: dead } = await run("docker", ["create", ...labels(2 ** 22 + 1), goImage, "true"]);
    const { stdout: live } = await run("docker", ["create", ...labels(process.pid), goImage, "true"]);
    try {
      // Any run that reaches the engine check sweeps, even one that then fails at the clone.
      const res = await build("v1.0.0-rc7", path.join(work, "dist-sweep"));
      expect(res.code).toBe(1);
      const left = await toolContainers();
      expect(left.some((id) => dead.trim().startsWith(id))).toBe(false);
      expect(left.some((id) => live.trim().startsWith(id))).toBe(true);
    } finally {
      await run("docker", ["rm", "-f", dead.trim(), live.trim()]).catch(() => undefined);
    }
  });
});
