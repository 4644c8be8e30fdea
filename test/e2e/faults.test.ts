/**
 * The fault catalogue of issue #13, on the real engine: the tool interrupted
 * (SIGINT, SIGTERM, SIGKILL) in each phase, the engine killed mid-compile or
 * answering nothing or no longer taking the source, a tampered cache, two processes on one --out, stale
 * artifacts, a full, read-only or immutable destination, an image without Go.
 * Each row checks the same things: the exit code, one line naming the cause
 * (no stack trace), the destination as it was, no labelled container and no
 * temp directory left. The runs get their own TMPDIR, so other suites' runs
 * on this machine do not count as ours.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, readdir, rm, stat, truncate, unlink, utimes, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeletFixture } from "../fixtures/kubelet-fixture.js";
import { createNodeTree } from "../fixtures/node-trees.js";
import { createRuncFixture } from "../fixtures/runc-fixture.js";
import { bootstrapGoImage, cli, listDir, removeDir, run, tempDir, toolContainers, toolTempEntries, waitFor, type CliResult } from "../helpers.js";
import { startSecondEngine, type SecondEngine } from "./second-engine.js";

const ASSET = (tag: string) => `runc-${tag}-nokmem-linux-amd64`;
/** A pid no process has (above the kernel's pid_max): a run that was killed. */
const DEAD_PID = 2 ** 22 + 1;

let work: string;
let fixture: string;
let cacheDir: string;
let goImage: string;
/** TMPDIR of every run here: staging directories are counted in it. */
let tmp: string;
/** rc9 built once, as a user would: the reference sha256, the binary to install, the artifacts to reuse. */
let baseOut: string;
let reference: { sha256: string; goImageId: string; builderImage: string };
let kubelet: { fixture: string; goImage: string } | undefined;
/** An engine of our own, to kill; it holds the base build's toolchain (loaded, ids kept: no image is built there). */
let second: SecondEngine;

const runcArgs = (tag: string, out: string, extra: string[] = []) => [
  "runc", tag, "--source", fixture, "--allow-unpinned", "--go-image", goImage, "--out", out, "--cache-dir", cacheDir, ...extra,
];
/** `build`: runc from the fixture on bookworm, kubelet from its fixture on bullseye (made on first use). */
const manyArgs = (targets: string[], out: string, extra: string[] = []) => [
  "build", ...targets, "--source", `runc=${fixture}`, "--go-image", `runc=${goImage}`,
  ...(kubelet ? ["--source", `kubelet=${kubelet.fixture}`, "--go-image", `kubelet=${kubelet.goImage}`] : []),
  "--allow-unpinned", "--out", out, "--cache-dir", cacheDir, ...extra,
];

interface Launched {
  pid: number;
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** Starts the CLI with our TMPDIR; the caller may signal it while it runs. */
function launch(args: string[], env: NodeJS.ProcessEnv = {}): Launched {
  let child: ChildProcess | undefined;
  const done = cli(args, { TMPDIR: tmp, ...env }, (c) => (child = c));
  return { pid: child!.pid!, child: child!, done };
}

/** Sends `signal` and waits for the run to end: the first signal must stop it within seconds, whatever it was doing. */
async function interrupt(r: Launched, signal: NodeJS.Signals): Promise<CliResult> {
  const sent = Date.now();
  r.child.kill(signal);
  const res = await r.done;
  expect(Date.now() - sent, `${signal} took effect only after ${Date.now() - sent} ms`).toBeLessThan(10_000);
  return res;
}

/** The compile container of run `pid` is running `make`. */
const compiling = (pid: number, host?: string) => async () => {
  const { stdout } = await run("docker", [...(host ? ["-H", host] : []), "ps", "--no-trunc", "--filter", `label=io.nokmem-build.pid=${pid}`, "--format", "{{.Command}}"]);
  return stdout.includes("make static");
};

/** Every entry of a directory (hidden ones too: temporaries, the lock) with its content hash; null when it does not exist. */
async function snapshot(dir: string): Promise<Record<string, string> | null> {
  if (!existsSync(dir)) return null;
  const out: Record<string, string> = {};
  for (const name of await readdir(dir)) {
    const st = await stat(path.join(dir, name));
    out[name] = st.isFile() ? `${(st.mode & 0o7777).toString(8)} ${createHash("sha256").update(await readFile(path.join(dir, name))).digest("hex")}` : "dir";
  }
  return out;
}

/** Removes image `id` and every image built on it (a cancelled build's cached steps, a builder), children first: all made here. */
async function removeImageTree(id: string): Promise<void> {
  const { stdout: all } = await run("docker", ["images", "-aq", "--no-trunc"]);
  // An image another suite removes meanwhile fails its inspect, not the others'.
  const { stdout } = await run("docker", ["image", "inspect", "--format", "{{.Id}} {{.Parent}}", ...new Set(all.split("\n").filter(Boolean))]).catch((err: { stdout: string }) => err);
  const parent = new Map(stdout.split("\n").filter(Boolean).map((l) => l.split(" ") as [string, string]));
  const depth = (image: string) => {
    for (let d = 0, at: string | undefined = image; at; at = parent.get(at), d++) if (at.includes(id)) return d;
    return -1;
  };
  const tree = [...parent.keys()].map((image) => [depth(image), image] as const).filter(([d]) => d >= 0);
  for (const [, image] of tree.sort((a, b) => b[0] - a[0])) await run("docker", ["rmi", "--no-prune", image]).catch(() => undefined);
}

interface Expected {
  code: number;
  /** The one error line (stderr's `nokmem-build: error:`, or the JSON object's error under --json); none for a success. */
  error?: RegExp;
  json?: boolean;
  /** The destination (--out, or the node's binary directory) and its snapshot before the run: it must be the same after. */
  unchanged?: { dir: string; before: Record<string, string> | null };
  /** The engine the run used, when not the machine's. */
  host?: string;
}

/** The checks every row makes. */
async function expectHandled(res: CliResult, pid: number, e: Expected): Promise<void> {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(e.code);
  expect(`${res.stdout}\n${res.stderr}`).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/); // no stack trace
  if (e.error && e.json) {
    const report = JSON.parse(res.stdout);
    expect(report).toMatchObject({ ok: false, exitCode: e.code });
    expect(report.error).toMatch(e.error);
    expect(report.error).not.toContain("\n");
  } else if (e.error) {
    const lines = res.stderr.split("\n").filter((l) => l.startsWith("nokmem-build: error:"));
    expect(lines, res.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(e.error);
  }
  if (e.unchanged) expect(await snapshot(e.unchanged.dir)).toEqual(e.unchanged.before);
  expect(await toolContainers({ pid, host: e.host })).toEqual([]);
  expect(await toolTempEntries(tmp)).toEqual([]);
}

/** A run that meets a stall: it ends as a handled failure after the 60 s bound, and well before a second one would pass. */
async function expectStallHandled(args: string[], env: NodeJS.ProcessEnv, e: Omit<Expected, "code">): Promise<void> {
  const started = Date.now();
  const r = launch(args, env);
  const res = await r.done;
  const took = Date.now() - started;
  expect(took, res.stderr + res.stdout).toBeGreaterThan(60_000);
  expect(took).toBeLessThan(100_000);
  await expectHandled(res, r.pid, { code: 1, ...e });
}

/** The fixture's rc9 with `mb` MB of incompressible noise committed on top, the tag moved onto it. */
async function withNoise(name: string, mb: number): Promise<string> {
  const big = path.join(work, name);
  await run("git", ["clone", "-q", fixture, big]);
  await run("git", ["-C", big, "checkout", "-q", "v1.0.0-rc9"]);
  await writeFile(path.join(big, "noise.bin"), randomBytes(mb * 2 ** 20));
  await run("git", ["-C", big, "add", "noise.bin"]);
  await run("git", ["-C", big, "-c", "user.name=faults", "-c", "user.email=faults@example.invalid", "commit", "-q", "-m", "noise"]);
  await run("git", ["-C", big, "tag", "-f", "v1.0.0-rc9"]);
  return big;
}

/** A fresh --out holding what a user already had there. */
async function usedOut(name: string): Promise<{ dir: string; before: Record<string, string> | null }> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "SHA256SUMS"), "keep me\n");
  return { dir, before: await snapshot(dir) };
}

beforeAll(async () => {
  work = await tempDir("faults-e2e");
  tmp = path.join(work, "tmp");
  await mkdir(tmp);
  fixture = path.join(work, "upstream-runc");
  cacheDir = path.join(work, "cache");
  await createRuncFixture(fixture);
  goImage = await bootstrapGoImage("bookworm");
  baseOut = path.join(work, "dist-base");
  const res = await cli([...runcArgs("v1.0.0-rc9", baseOut), "--json"], { TMPDIR: tmp });
  if (res.code !== 0) throw new Error(res.stdout + res.stderr);
  const { toolchain, binary } = JSON.parse(res.stdout).manifest;
  reference = { sha256: binary.sha256, goImageId: toolchain.goImageId, builderImage: toolchain.builderImage };
  // Loaded now, while the images are surely there (other suites on this engine remake their toolchains).
  second = await startSecondEngine(path.join(work, "engine"));
  await run("sh", ["-c", `docker save ${reference.builderImage} ${reference.goImageId} | docker -H ${second.host} load -q`]);
  await second.docker(["tag", reference.goImageId, "nokmem-faults/go:loaded"]);
});

afterAll(async () => {
  await second?.destroy();
  await removeDir(work);
});

describe("the tool interrupted", () => {
  it.each([
    ["SIGINT", 130, true],
    ["SIGTERM", 143, false],
  ] as const)("%s during the compile stops it, removes the container, exits %i and leaves --out as it was", async (signal, code, json) => {
    const out = await usedOut(`out-${signal}`);
    const r = launch(runcArgs("v1.0.0-rc93", out.dir, json ? ["--json"] : []));
    await waitFor("the compile", compiling(r.pid));
    await expectHandled(await interrupt(r, signal), r.pid, { code, error: new RegExp(`interrupted by ${signal}: nothing was written`), json, unchanged: out });
  });

  it("SIGINT during the toolchain's image build cancels it: exit 130, no builder image, no build container", async () => {
    // A Go image of our own (the same Go, another image id), so the builder image has to be built.
    const mark = `nokmem-faults-${process.pid}`;
    const { stdout: cid } = await run("docker", ["create", goImage, "true"]);
    const { stdout: image } = await run("docker", ["commit", "--change", `LABEL io.nokmem-faults=${mark}`, cid.trim(), `nokmem-faults/go:${mark}`]);
    await run("docker", ["rm", cid.trim()]);
    const id = image.trim().replace(/^sha256:/, "");
    try {
      const out = await usedOut("out-image-build");
      const r = launch(["runc", "v1.0.0-rc9", "--source", fixture, "--allow-unpinned", "--go-image", `nokmem-faults/go:${mark}`, "--out", out.dir, "--cache-dir", cacheDir]);
      // The builder's RUN step: a container from our image running apt.
      const building = async () => (await run("docker", ["ps", "--no-trunc", "--filter", `ancestor=${id}`, "--format", "{{.Command}}"])).stdout.includes("apt-sources.sh");
      await waitFor("the builder image build", building);
      await expectHandled(await interrupt(r, "SIGINT"), r.pid, { code: 130, error: /interrupted by SIGINT/, unchanged: out });
      const { stdout: builders } = await run("docker", ["images", "nokmem-build/builder", "--format", "{{.Tag}}"]);
      expect(builders.split("\n").filter((t) => t.endsWith(id.slice(0, 12)))).toEqual([]);
      // The engine cancels the build when the connection closes; its RUN container goes with it.
      await waitFor("the build container to go", async () => (await run("docker", ["ps", "-aq", "--filter", `ancestor=${id}`])).stdout.trim() === "", 60_000);
    } finally {
      await removeImageTree(id);
    }
  });

  it("SIGINT during `build runc@… runc@…` is not a success: exit 130 and the error, not {ok:true,targets:[]}", async () => {
    const out = await usedOut("out-many-sigint");
    const r = launch(manyArgs(["runc@v1.0.0-rc93", "runc@v1.0.0-rc10"], out.dir, ["--json"]));
    await waitFor("the compile", compiling(r.pid));
    const res = await interrupt(r, "SIGINT");
    expect(res.stdout).not.toMatch(/"ok": true/);
    await expectHandled(res, r.pid, { code: 130, error: /interrupted by SIGINT/, json: true, unchanged: out });
  });

  it("SIGINT while publishing waits for another process's lock on --out: exit 130 at once, --out as it was", async () => {
    const out = await usedOut("out-locked");
    // Another nokmem-build publishing there: its lock (proper-lockfile's directory), kept fresh.
    const lock = path.join(out.dir, ".nokmem-build.lock");
    await mkdir(lock);
    const fresh = setInterval(() => void utimes(lock, new Date(), new Date()), 1_000);
    try {
      const before = await snapshot(out.dir);
      const r = launch(runcArgs("v1.0.0-rc9", out.dir));
      // Compiled, then checked (a moment): from then on it waits for the lock, minutes if nobody stops it.
      await waitFor("the compile", compiling(r.pid));
      await waitFor("the compile's end", async () => (await toolContainers({ pid: r.pid })).length === 0);
      await sleep(3_000);
      await expectHandled(await interrupt(r, "SIGINT"), r.pid, { code: 130, error: /interrupted by SIGINT/, unchanged: { dir: out.dir, before } });
    } finally {
      clearInterval(fresh);
    }
  });

  it("SIGKILL mid-compile leaves a container and a staging directory; the next run sweeps both", async () => {
    const out = await usedOut("out-sigkill");
    const r = launch(runcArgs("v1.0.0-rc93", out.dir));
    await waitFor("the compile", compiling(r.pid));
    r.child.kill("SIGKILL");
    await r.done;
    const left = await toolContainers({ pid: r.pid });
    expect(left).toHaveLength(1);
    // The source tree is held in memory (a tmpfs of the container's), so it goes with the container;
    // the named Go cache volume stays, as it should.
    const { stdout: held } = await run("docker", ["inspect", "--format", "{{json .HostConfig.Tmpfs}} {{range .Mounts}}{{.Name}}{{end}}", left[0]!]);
    const [tmpfs, volume] = held.trim().split(" ");
    expect(JSON.parse(tmpfs!)).toEqual({ "/go/src/github.com/opencontainers/runc": "exec" });
    expect(volume).toMatch(/^nokmem-build-gocache-/);
    expect((await toolTempEntries(tmp)).filter((n) => n.includes(`-${r.pid}-`)).length).toBeGreaterThan(0);
    expect(await snapshot(out.dir)).toEqual(out.before);
    // Any later run that reaches the engine check sweeps them, even one that then fails (the tag is missing).
    const next = launch(runcArgs("v1.0.0-rc7", path.join(work, "out-after-sigkill")));
    await expectHandled(await next.done, next.pid, { code: 1, error: /tag v1\.0\.0-rc7 not found at/ });
    expect(await toolContainers({ pid: r.pid })).toEqual([]);
    expect((await run("docker", ["volume", "ls", "-q"])).stdout.split("\n")).toContain(volume);
  });

  it("an install killed before its rename left .runc.nokmem-new-<pid>-…: the next install sweeps it", async () => {
    const root = path.join(work, "node-leftover");
    await createNodeTree(root, { release: "3.10.0-957.el7.x86_64", cmdline: "ro", cgroup: "v1", binaries: { runc: "/bin/true" } });
    const left = path.join(root, "usr/bin", `.runc.nokmem-new-${DEAD_PID}-0a1b2c3d`);
    await copyFile(path.join(baseOut, ASSET("v1.0.0-rc9")), left);
    // --path: replaced in place (without it runc would go to /usr/local/sbin, beside the package's copy).
    const r = launch(["install", path.join(baseOut, ASSET("v1.0.0-rc9")), "--component", "runc", "--root", root, "--path", "/usr/bin/runc", "--no-restart"]);
    await expectHandled(await r.done, r.pid, { code: 0 });
    const names = await listDir(path.join(root, "usr/bin"));
    expect(names.filter((n) => n.startsWith("."))).toEqual([]);
    expect(await readFile(path.join(root, "usr/bin/runc"))).toEqual(await readFile(path.join(baseOut, ASSET("v1.0.0-rc9"))));
  });
});

describe("the engine fails", () => {
  async function silentEngine(): Promise<{ host: string; close: () => void }> {
    const sock = path.join(work, `silent-${Date.now()}.sock`);
    const sockets: net.Socket[] = [];
    // Accepts every connection and never answers, as a wedged dockerd does.
    const server = net.createServer((s) => (sockets.push(s), s.on("data", () => undefined)));
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    return { host: `unix://${sock}`, close: () => (sockets.forEach((s) => s.destroy()), server.close()) };
  }

  it("an engine that accepts and never answers: a clear error within the 30 s bound", async () => {
    const silent = await silentEngine();
    try {
      const out = await usedOut("out-silent");
      const started = Date.now();
      const r = launch([...runcArgs("v1.0.0-rc9", out.dir), "--json"], { DOCKER_HOST: silent.host });
      const res = await r.done;
      expect(Date.now() - started).toBeLessThan(45_000);
      await expectHandled(res, r.pid, {
        code: 1,
        json: true,
        error: /^the Docker engine at unix:\/\/.*silent-\d+\.sock did not answer within 30 s while checking that it runs \(ping\): check that dockerd is running/,
        unchanged: out,
      });
    } finally {
      silent.close();
    }
  });

  it("an engine that stops taking the source mid-copy: a clear error after the 60 s bound, no container left", async () => {
    // More than the socket buffers between the tool and the engine hold.
    const big = await withNoise("upstream-big", 8);
    // The real engine behind a socket of ours that passes every request on, but reads nothing of what
    // the tool sends on the attach connection after its request: as an engine that stopped taking the input.
    const sock = path.join(work, `deaf-${Date.now()}.sock`);
    const sockets: net.Socket[] = [];
    const relay = net.createServer({ allowHalfOpen: true }, (client) => {
      const engine = net.connect({ path: "/var/run/docker.sock", allowHalfOpen: true });
      sockets.push(client, engine);
      engine.pipe(client);
      // Request by request: a connection may carry several (keep-alive) before the attach.
      client.on("data", (chunk: Buffer) => {
        engine.write(chunk);
        if (/^POST \S*\/attach\?/m.test(chunk.toString("latin1"))) client.pause();
      });
      client.on("end", () => engine.end());
      const close = () => (client.destroy(), engine.destroy());
      client.on("error", close);
      engine.on("error", close);
    });
    await new Promise<void>((resolve) => relay.listen(sock, resolve));
    try {
      const out = await usedOut("out-deaf");
      const args = ["runc", "v1.0.0-rc9", "--source", big, "--allow-unpinned", "--go-image", goImage, "--out", out.dir, "--cache-dir", cacheDir, "--json"];
      await expectStallHandled(args, { DOCKER_HOST: `unix://${sock}` }, {
        json: true,
        error: /^the Docker engine at unix:\/\/.*deaf-\d+\.sock took nothing for 60 s while copying files into container [0-9a-f]{12}: check that dockerd is running and not stuck, then try again/,
        unchanged: out,
      });
    } finally {
      sockets.forEach((s) => s.destroy());
      relay.close();
    }
  });

  it("the first Ctrl-C is not ignored while the engine answers nothing: exit 130 at once", async () => {
    const silent = await silentEngine();
    try {
      const out = await usedOut("out-silent-sigint");
      const r = launch(runcArgs("v1.0.0-rc9", out.dir), { DOCKER_HOST: silent.host });
      await sleep(3_000);
      await expectHandled(await interrupt(r, "SIGINT"), r.pid, { code: 130, error: /interrupted by SIGINT/, unchanged: out });
    } finally {
      silent.close();
    }
  });

  it.each([
    ["with no shell at all (an empty import)", "empty", /cannot start a container from nokmem-faults\/nogo:empty: .*\/bin\/sh.*no such file or directory/],
    ["with a shell but no Go", "shell", /image nokmem-faults\/nogo:shell has no working Go \(go version: .*go: not found\)/],
  ])("a --go-image %s: one line naming the image, no dangling image left", async (_, kind, message) => {
    const rootfs = path.join(work, `rootfs-${kind}`);
    await mkdir(rootfs, { recursive: true });
    if (kind === "shell") {
      // dash and the libraries it loads: a shell, and nothing else.
      const { stdout: ldd } = await run("ldd", ["/bin/sh"]);
      const files = ["/bin/sh", ...[...ldd.matchAll(/(\/\S+)/g)].map((m) => m[1]!)];
      for (const f of files) {
        await mkdir(path.join(rootfs, path.dirname(f)), { recursive: true });
        await copyFile(f, path.join(rootfs, f));
        await chmod(path.join(rootfs, f), 0o755);
      }
    }
    await run("sh", ["-c", `tar -C ${rootfs} -cf - . | docker -H ${second.host} import - nokmem-faults/nogo:${kind}`]);
    const dangling = async () => (await second.docker(["images", "-q", "-f", "dangling=true"])).trim();
    const danglingBefore = await dangling();
    const out = await usedOut(`out-nogo-${kind}`);
    const r = launch(["runc", "v1.0.0-rc9", "--source", fixture, "--allow-unpinned", "--go-image", `nokmem-faults/nogo:${kind}`, "--out", out.dir, "--cache-dir", cacheDir], {
      DOCKER_HOST: second.host,
    });
    await expectHandled(await r.done, r.pid, { code: 1, error: message, unchanged: out, host: second.host });
    expect(await dangling()).toBe(danglingBefore);
  });

  it("the engine SIGKILLed mid-compile: exit 1 with one line (and the JSON object), staging removed; the restarted engine's next run sweeps the container", async () => {
    const args = (tag: string, out: string) => ["runc", tag, "--source", fixture, "--allow-unpinned", "--go-image", "nokmem-faults/go:loaded", "--out", out, "--cache-dir", cacheDir];
    const out = await usedOut("out-engine-killed");
    const r = launch([...args("v1.0.0-rc93", out.dir), "--json"], { DOCKER_HOST: second.host });
    await waitFor("the compile on the second engine", compiling(r.pid, second.host));
    await second.kill();
    const res = await r.done;
    expect(res.code, res.stdout + res.stderr).toBe(1);
    const report = JSON.parse(res.stdout);
    expect(report.error).toMatch(new RegExp(`^the Docker engine at ${second.host} went away while running container [0-9a-f]{12} \\((ECONNREFUSED|ECONNRESET|socket hang up|aborted)\\): check that dockerd is running`));
    expect(report.error).not.toContain("\n");
    expect(await snapshot(out.dir)).toEqual(out.before);
    expect(await toolTempEntries(tmp)).toEqual([]);

    // Back up (as after a crash), the engine still holds the dead run's container: the next run removes it.
    await second.start();
    expect(await toolContainers({ pid: r.pid, host: second.host })).toHaveLength(1);
    const next = launch(args("v1.0.0-rc7", path.join(work, "out-after-engine")), { DOCKER_HOST: second.host });
    await expectHandled(await next.done, next.pid, { code: 1, error: /tag v1\.0\.0-rc7 not found/, host: second.host });
    expect(await toolContainers({ pid: r.pid, host: second.host })).toEqual([]);
  });
});

describe("the source fails", () => {
  /** A TCP server on loopback; `serve` gets each connection. */
  async function listen(serve: (s: net.Socket) => void): Promise<{ port: number; close: () => void }> {
    const sockets: net.Socket[] = [];
    const server = net.createServer({ allowHalfOpen: true }, (s) => (sockets.push(s), serve(s)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { port: (server.address() as net.AddressInfo).port, close: () => (sockets.forEach((x) => x.destroy()), server.close()) };
  }

  /** git processes still talking to loopback port `port`. */
  const gitsOn = async (port: number) => (await run("ps", ["-eo", "args"])).stdout.split("\n").filter((l) => /\bgit/.test(l) && l.includes(`127.0.0.1:${port}`));

  it("a source that accepts and never answers: a clear error after the 60 s bound, no clone or git left", async () => {
    // As a mirror or proxy that holds the connection: git alone would wait for ever.
    const silent = await listen((s) => s.on("data", () => undefined));
    const url = `http://127.0.0.1:${silent.port}/runc.git`;
    try {
      const out = await usedOut("out-stalled-source");
      const cache = path.join(work, "cache-stalled-source");
      await expectStallHandled(["runc", "v1.0.0-rc9", "--source", url, "--allow-unpinned", "--go-image", goImage, "--out", out.dir, "--cache-dir", cache], {}, {
        error: /^nokmem-build: error: http:\/\/127\.0\.0\.1:\d+\/runc\.git sent nothing for 60 s while cloning runc v1\.0\.0-rc9: check the network path to it \(proxy, VPN, firewall\) or pass --source with a reachable mirror, then try again/,
        unchanged: out,
      });
      const sources = path.join(cache, "sources");
      const left = existsSync(sources) ? await readdir(sources, { recursive: true }) : [];
      expect(left.filter((e) => e.includes(path.sep)), "a half-made clone").toEqual([]);
      expect(await gitsOn(silent.port)).toEqual([]);
    } finally {
      silent.close();
    }
  });

  it("a source slow but moving is not cut: a clone that takes longer than the bound builds, showing git's progress", async () => {
    // 14 MB that git cannot compress, served by git's own daemon through a relay at 200 KB/s: ~70 s.
    const big = await withNoise("upstream-slow", 14);
    const free = await listen(() => undefined);
    const daemonPort = free.port;
    free.close(); // the daemon's now
    const daemon = spawn("git", ["daemon", "--reuseaddr", "--export-all", `--base-path=${work}`, "--listen=127.0.0.1", `--port=${daemonPort}`, work], { stdio: "ignore" });
    const slow = await listen(async (client) => {
      const upstream = net.connect({ host: "127.0.0.1", port: daemonPort });
      client.pipe(upstream);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      for await (const chunk of upstream as AsyncIterable<Buffer>) {
        for (let i = 0; i < chunk.length; i += 8192) {
          client.write(chunk.subarray(i, i + 8192));
          await sleep(40); // 8 KB per 40 ms
        }
      }
      client.end();
    });
    try {
      await waitFor("git daemon", async () => (await run("git", ["ls-remote", `git://127.0.0.1:${daemonPort}/${path.basename(big)}`]).then(() => true, () => false)), 30_000);
      const out = path.join(work, "out-slow-source");
      const started = Date.now();
      const r = launch(["runc", "v1.0.0-rc9", "--source", `git://127.0.0.1:${slow.port}/${path.basename(big)}`, "--allow-unpinned", "--go-image", goImage, "--out", out, "--cache-dir", path.join(work, "cache-slow-source")]);
      const res = await r.done;
      expect(res.code, res.stderr).toBe(0);
      const log = await readFile(path.join(out, `${ASSET("v1.0.0-rc9")}.log`), "utf8");
      // The clone alone outlasted the bound: fetch step to build step, by the log's own clock.
      const at = (title: string) => Date.parse(log.split("\n").find((l) => l.includes(`[${title}]`))!.split(" ")[0]!);
      expect(at("Building in a container") - at("Fetching the source"), log).toBeGreaterThan(60_000);
      expect(Date.now() - started).toBeGreaterThan(60_000);
      expect(res.stderr).toMatch(/v1\.0\.0-rc9 from git:\/\/127\.0\.0\.1:\d+\/upstream-slow: receiving \d+%/);
    } finally {
      slow.close();
      daemon.kill();
    }
  });
});

describe("the cache, the output directory and the node's directories", () => {
  it("a file dropped into the cached clone is not compiled in: same sha256 as the clean build", async () => {
    const [dir] = await listDir(path.join(cacheDir, "sources"));
    const clone = path.join(cacheDir, "sources", dir!, "v1.0.0-rc9");
    // The cache is a bare clone: the file sits where a checkout's would.
    const dropped = path.join(clone, "libcontainer/cgroups/fs/kmem_extra.go");
    await mkdir(path.dirname(dropped), { recursive: true });
    // Compiled in, it breaks the build: the package does not type-check.
    await writeFile(dropped, 'package fs\n\nvar droppedIntoTheCache int = "not compiled"\n');
    const out = path.join(work, "out-dropped");
    const r = launch([...runcArgs("v1.0.0-rc9", out), "--json"]);
    const res = await r.done;
    await expectHandled(res, r.pid, { code: 0 });
    expect(JSON.parse(res.stdout).sha256).toBe(reference.sha256);
    expect(existsSync(dropped)).toBe(true); // the cached clone was used, with the file in it
    await rm(dropped);
  });

  it("a cached clone whose objects are damaged: one line naming it, exit 1, no container, --out as it was", async () => {
    const scratch = path.join(work, "cache-damaged");
    const first = launch([...runcArgs("v1.0.0-rc9", path.join(work, "out-damaged-first")), "--cache-dir", scratch]);
    await expectHandled(await first.done, first.pid, { code: 0 });
    const [dir] = await listDir(path.join(scratch, "sources"));
    const clone = path.join(scratch, "sources", dir!, "v1.0.0-rc9");
    const packs = path.join(clone, "objects/pack");
    // Every 997th byte of the pack's objects flipped, as a failing disk would: git cannot inflate them.
    for (const name of (await listDir(packs)).filter((n) => n.endsWith(".pack"))) {
      const file = path.join(packs, name);
      const bytes = await readFile(file);
      for (let i = 2000; i < bytes.length - 100; i += 997) bytes[i]! ^= 0xff;
      await chmod(file, 0o644);
      await writeFile(file, bytes);
    }
    const out = await usedOut("out-damaged");
    const r = launch([...runcArgs("v1.0.0-rc9", out.dir), "--cache-dir", scratch]);
    const res = await r.done;
    await expectHandled(res, r.pid, { code: 1, error: /the cached source \S+ is damaged \(git archive [0-9a-f]{40}: .+\): remove that directory and run again; full log: / });
    expect(res.stderr).toContain(`the cached source ${clone} is damaged`);
    expect(await snapshot(out.dir)).toEqual(out.before);
  });

  it("two processes building different tags into one --out at once: both exit 0 and SHA256SUMS checks out", async () => {
    const out = path.join(work, "out-shared");
    const [a, b] = [launch(runcArgs("v1.0.0-rc9", out)), launch(runcArgs("v1.0.0-rc10", out))];
    const [ra, rb] = await Promise.all([a.done, b.done]);
    await expectHandled(ra, a.pid, { code: 0 });
    await expectHandled(rb, b.pid, { code: 0 });
    const { stdout } = await run("sha256sum", ["-c", "SHA256SUMS"], { cwd: out });
    for (const tag of ["v1.0.0-rc9", "v1.0.0-rc10"]) expect(stdout).toContain(`${ASSET(tag)}: OK`);
    expect((await listDir(out)).filter((n) => n.startsWith("."))).toEqual([]);
  });

  describe("reuse: `build` keeps only artifacts that still check out", () => {
    // Reuse holds for a pinned tag only at its pinned commit, and every runc tag is pinned: an unpinned kubelet then.
    let reuseOut: string;
    let built: string;
    beforeAll(async () => {
      kubelet = { fixture: path.join(work, "upstream-kubernetes"), goImage: await bootstrapGoImage("bullseye") };
      await createKubeletFixture(kubelet.fixture);
      reuseOut = path.join(work, "out-reuse");
      const res = await cli(manyArgs(["kubelet@v1.12.8"], reuseOut, ["--json"]), { TMPDIR: tmp });
      if (res.code !== 0) throw new Error(res.stdout + res.stderr);
      built = JSON.parse(res.stdout).targets[0].sha256;
    });

    it.each([
      ["its .log deleted", (file: string) => unlink(`${file}.log`)],
      ["its .sha256 emptied", (file: string) => truncate(`${file}.sha256`)],
    ])("a target with %s is rebuilt, not called cached", async (_, damage) => {
      const asset = path.join(reuseOut, "kubelet-v1.12.8-nokmem-linux-amd64");
      const first = launch(manyArgs(["kubelet@v1.12.8"], reuseOut, ["--json"]));
      const kept = await first.done;
      await expectHandled(kept, first.pid, { code: 0 });
      expect(JSON.parse(kept.stdout).targets[0].status).toBe("cached");
      await damage(asset);
      const r = launch(manyArgs(["kubelet@v1.12.8"], reuseOut, ["--json"]));
      const res = await r.done;
      await expectHandled(res, r.pid, { code: 0 });
      expect(JSON.parse(res.stdout).targets[0]).toMatchObject({ status: "built", sha256: built });
      await run("sha256sum", ["-c", "SHA256SUMS"], { cwd: reuseOut });
    });
  });

  it("--out on a full file system (1 MiB tmpfs): one ENOSPC line after the build, --out as it was", async () => {
    const out = path.join(work, "out-full");
    await mkdir(out);
    await run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", out]);
    try {
      await writeFile(path.join(out, "SHA256SUMS"), "keep me\n");
      const before = await snapshot(out);
      const r = launch(runcArgs("v1.0.0-rc9", out));
      await expectHandled(await r.done, r.pid, {
        code: 1,
        error: new RegExp(`cannot write the artifacts into ${out} \\(ENOSPC: no space left on device\\): free space there or pass another --out; nothing in it was replaced`),
        unchanged: { dir: out, before },
      });
    } finally {
      await run("umount", [out]);
    }
  });

  it("--out on a read-only mount: refused before any work, one line, exit 2", async () => {
    const { dir, before } = await usedOut("out-readonly");
    await run("mount", ["--bind", "-o", "ro", dir, dir]);
    try {
      const r = launch(runcArgs("v1.0.0-rc9", dir));
      await expectHandled(await r.done, r.pid, { code: 2, error: /--out .*out-readonly: cannot write in .*out-readonly \(EROFS: read-only file system\)/, unchanged: { dir, before } });
    } finally {
      await run("umount", [dir]);
    }
  });

  it("install into a directory made immutable (chattr +i): one line, nothing changed", async () => {
    const root = path.join(work, "node-immutable");
    await createNodeTree(root, { release: "3.10.0-957.el7.x86_64", cmdline: "ro", cgroup: "v1", binaries: { runc: "/bin/true" } });
    const bin = path.join(root, "usr/bin");
    await run("chattr", ["+i", bin]);
    try {
      const before = await snapshot(bin);
      const r = launch(["install", path.join(baseOut, ASSET("v1.0.0-rc9")), "--component", "runc", "--root", root, "--path", "/usr/bin/runc", "--no-restart"]);
      await expectHandled(await r.done, r.pid, {
        code: 1,
        error: /cannot install into \/usr\/bin \(EPERM: operation not permitted\): is \/usr\/bin immutable .*; nothing was changed/,
        unchanged: { dir: bin, before },
      });
    } finally {
      await run("chattr", ["-i", bin]);
    }
  });
});
