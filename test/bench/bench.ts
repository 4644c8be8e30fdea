/**
 * Benchmark of the tool against itself and against a bare build, every ratio
 * measured in the same run, each figure the median (min, max) of --runs runs
 * taken alternately:
 *
 *   cold      `nokmem-build runc` (empty source cache, --no-cache) vs a bare
 *             `git clone` + `docker run … make static` of the same tag in the
 *             same builder image
 *   warm      a second tag on a Go build cache warmed by the first vs that
 *             tag cold (--no-cache); their sha256 must be equal
 *   no-op     rerunning a finished `nokmem-build runc` into the same --out
 *   jobs      `build` of two targets with --jobs 2 vs --jobs 1: two tags, cold (--no-cache)
 *             and on a shared Go cache warmed by a third tag; runc and the kubelet
 *             fixture, on two toolchains' caches, each warmed by another version
 *   bare pair the same two tags built bare on the same warm-up, side by side vs one after
 *             the other: what compiling both at once gives here (--jobs compiles them in turn)
 *   kubelet   with --kube-tree (a generated Kubernetes-sized tree in the
 *             kubelet fixture layout) or --kube-source (a real Kubernetes
 *             repository): cold `nokmem-build kubelet` vs bare `make kubelet`
 *
 * Every tool run starts with an empty source cache, and with the images (an
 * untimed first build of each component makes its builder image) and what
 * the tool keeps about them (--cache-dir/toolchains), as the bare build
 * starts with its image. Each measurement starts after a sync.
 *
 *   npm run bench -- [--runs N] [--source RUNC-REPO] [--tag TAG] [--warm-tag TAG] [--jobs-warm-tag TAG]
 *                    [--kube-tree [--kube-files N] [--kube-mb MB]] [--kube-source REPO] [--kube-tag TAG]
 *
 * Without --source it builds the runc test fixture. The table goes to stdout,
 * progress to stderr. Volumes are made under a cache scope of the benchmark's
 * own and removed at the end; images are only reused, never removed.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { simpleGit } from "simple-git";
import { lookupRecipe } from "../../src/recipes/lookup.js";
import type { Component } from "../../src/recipes/schema.js";
import { KUBELET_FIXTURE_TAGS, createKubeletFixture } from "../fixtures/kubelet-fixture.js";
import { createRuncFixture } from "../fixtures/runc-fixture.js";

const CLI = new URL("../../lib/cli.js", import.meta.url).pathname;
const SCOPE_ENV = "NOKMEM_BUILD_CACHE_SCOPE";
/** The kubelet fixture's versions the two-toolchain --jobs row builds, and warms its cache with. */
const MIXED_KUBE_TAG = "v1.18.6";
const MIXED_KUBE_WARM_TAG = "v1.12.8";

function usage(message: string): never {
  process.stderr.write(`bench: error: ${message}\n`);
  process.exit(2);
}

const options = {
  runs: { type: "string", default: "5" },
  source: { type: "string" },
  tag: { type: "string", default: "v1.0.0-rc9" },
  "warm-tag": { type: "string", default: "v1.0.0-rc10" },
  "jobs-warm-tag": { type: "string", default: "v1.0.0-rc93" },
  "kube-tree": { type: "boolean", default: false },
  "kube-files": { type: "string", default: "23000" },
  "kube-mb": { type: "string", default: "300" },
  "kube-source": { type: "string" },
  "kube-tag": { type: "string", default: "v1.18.6" },
} as const;
const values = (() => {
  try {
    return parseArgs({ options }).values;
  } catch (err) {
    return usage((err as Error).message);
  }
})();
const whole = (name: "runs" | "kube-files" | "kube-mb", min: number) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) usage(`--${name} ${values[name]}: expected a whole number of at least ${min}`);
  return n;
};
const runs = whole("runs", 1);
const kubeFiles = whole("kube-files", 1);
const kubeMb = whole("kube-mb", 1);
const tag = values.tag!;
const warmTag = values["warm-tag"]!;
const jobsWarmTag = values["jobs-warm-tag"]!;
if (warmTag === tag) usage("--warm-tag must differ from --tag: the warm row builds another tag on the first one's cache");
if ([tag, warmTag].includes(jobsWarmTag)) usage("--jobs-warm-tag must differ from --tag and --warm-tag: it warms the cache the two targets then share");
if (values["kube-tree"] && values["kube-source"]) usage("--kube-tree or --kube-source, not both");

const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

interface Timed {
  seconds: number;
  stdout: string;
}

/** Runs a command to its end, timed; a failure throws with the tail of its stderr. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("close", (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code === 0) resolve({ seconds, stdout });
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${stderr.split("\n").slice(-15).join("\n")}${stdout.slice(-2000)}`));
    });
  });
}

/**
 * Untimed, before each measurement: the writes of whatever ran before go to disk first, so no
 * run pays for another's write-back (on a disk slow to write, that varied a run by seconds).
 */
const flushed = () => timed("sync", []);

const tool = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  await flushed();
  return timed(process.execPath, [CLI, ...args], env);
};

interface Built {
  seconds: number;
  status: string;
  sha256: string;
  manifest: { toolchain: { builderImage: string }; build: { env: Record<string, string>; command: string } };
}

/** One `nokmem-build COMPONENT TAG --json` into `out`, with its result. */
async function buildWithTool(component: Component, version: string, source: string, goImage: string, out: string, cacheDir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Built> {
  const r = await tool([component, version, "--source", source, "--allow-unpinned", "--go-image", goImage, "--out", out, "--cache-dir", cacheDir, "--json", ...extra], env);
  const result = JSON.parse(r.stdout);
  return { seconds: r.seconds, status: result.status, sha256: result.sha256, manifest: result.manifest };
}

/**
 * The bare build an operator would run: a shallow clone, then make in the same builder image with
 * the same environment, bind-mounted, on a Go cache volume when one is given. Returns its seconds.
 */
async function bareRun(component: Component, version: string, source: string, like: Built["manifest"], dir: string, goCache?: string): Promise<number> {
  const workDir = `/go/src/${(await lookupRecipe(component, version, { allowUnpinned: true })).importPath}`;
  const clone = await timed("git", ["clone", "-q", "--depth=1", "--single-branch", `--branch=${version}`, fileUrl(source), dir]);
  const env = Object.entries(like.build.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  const cache = goCache ? ["-v", `${goCache}:${like.build.env.GOCACHE}`] : [];
  const make = await timed("docker", ["run", "--rm", "--network", "none", "-v", `${dir}:${workDir}`, ...cache, "-w", workDir, ...env, like.toolchain.builderImage, "sh", "-c", like.build.command]);
  return clone.seconds + make.seconds;
}

/** Untimed: what a bare build's container wrote belongs to root; hand it back so it can be removed. */
async function handBack(dir: string, like: Built["manifest"]): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) await timed("docker", ["run", "--rm", "--network", "none", "-v", `${dir}:/s`, like.toolchain.builderImage, "chown", "-R", `${uid}:${process.getgid?.() ?? 0}`, "/s"]);
}

async function bareBuild(component: Component, version: string, source: string, like: Built["manifest"], dir: string): Promise<number> {
  await flushed();
  const seconds = await bareRun(component, version, source, like, dir);
  await handBack(dir, like);
  return seconds;
}

const fileUrl = (p: string) => (/^[a-z]+:\/\//.test(p) ? p : `file://${path.resolve(p)}`);

/** A deterministic stream of hex text, so git can neither dedupe nor squeeze the filler much. */
function* fillerText(seed: number): Generator<string> {
  let x = seed | 1;
  for (;;) {
    let line = "//";
    for (let i = 0; i < 8; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      line += ` ${(x >>> 0).toString(16).padStart(8, "0")}`;
    }
    yield `${line}\n`;
  }
}

/**
 * The kubelet fixture's v1.18.6 plus `files` filler Go files (never imported,
 * so never compiled) totalling about `mb` MB, spread over the top-level
 * folders of a Kubernetes tree; the tag is moved onto that commit.
 */
async function createKubeTree(dir: string, files: number, mb: number): Promise<void> {
  await createKubeletFixture(dir, KUBELET_FIXTURE_TAGS.filter((t) => t.tag === "v1.18.6"));
  const tops = ["pkg", "staging/src/k8s.io", "vendor/github.com", "test/e2e", "cmd", "plugin", "cluster"];
  const perFile = Math.floor((mb * 2 ** 20) / files);
  for (let i = 0; i < files; i++) {
    const pkg = path.join(dir, tops[i % tops.length]!, `filler${String(Math.floor(i / 200)).padStart(3, "0")}`);
    if (i % 200 < tops.length) await mkdir(pkg, { recursive: true });
    const gen = fillerText(i + 1);
    let body = `package filler${Math.floor(i / 200)}\n\n`;
    while (body.length < perFile) body += gen.next().value;
    await writeFile(path.join(pkg, `zz_filler_${i}.go`), body);
    if (i % 5000 === 0) progress(`kube tree: ${i} of ${files} files`);
  }
  const git = simpleGit(dir);
  // Packed below, not by the commit's automatic gc in the background during the first runs.
  await git.addConfig("gc.auto", "0");
  await git.add(["-A"]);
  await git.commit("filler: a Kubernetes-sized tree");
  await git.raw(["tag", "-f", "-a", "v1.18.6", "-m", "Kubernetes v1.18.6 (kube-sized)"]);
  await git.raw(["repack", "-a", "-d", "-q"]);
}

/** Bootstraps (or reuses) a Debian suite's Go image, as the README says. */
async function goImageOf(suite: string): Promise<string> {
  return JSON.parse((await tool(["toolchain", "bootstrap", "--suite", suite, "--json"])).stdout).image;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
function median(xs: number[]): number {
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
/** "median (min–max)": " s" after the median for times, "×" for ratios. */
function spread(xs: number[], unit: " s" | "×"): string {
  const s = sorted(xs);
  return `${median(xs).toFixed(2)}${unit} (${s[0]!.toFixed(2)}–${s.at(-1)!.toFixed(2)})`;
}
const stats = (xs: number[]) => spread(xs, " s");

interface Row {
  what: string;
  measured: number[];
  against: string;
  baseline: number[];
  target: string;
}

/**
 * Run i of a row and run i of its baseline were taken next to each other, so their ratio is free of
 * the machine's drift between runs (here the same build took 8.8 s in one pair and 10.5 s in another).
 */
function pairedRatios(r: Row): string {
  return spread(r.measured.map((m, i) => m / r.baseline[i]!), "×");
}

function table(rows: Row[]): string {
  const header = ["measurement", "median (min–max)", "against", "median (min–max)", "ratio", "paired ratio: median (min–max)", "target"];
  const body = rows.map((r) => [r.what, stats(r.measured), r.against, stats(r.baseline), `${(median(r.measured) / median(r.baseline)).toFixed(2)}×`, pairedRatios(r), r.target]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

const work = path.join(os.tmpdir(), `nokmem-bench-${process.pid}-${randomBytes(3).toString("hex")}`);
const scope = `bench-${randomBytes(4).toString("hex")}`;
const scopes: string[] = [];
let n = 0;
/** A fresh directory under the benchmark's work directory. */
const fresh = (name: string) => path.join(work, `${name}-${++n}`);

try {
  await mkdir(work, { recursive: true });
  const source = values.source ?? path.join(work, "upstream-runc");
  if (!values.source) await createRuncFixture(source);
  progress("toolchain images (made once, then reused)");
  const bookworm = await goImageOf("bookworm");
  const rows: Row[] = [];
  const env = (s: string) => {
    scopes.push(s);
    return { [SCOPE_ENV]: s };
  };

  // Every run: the images and what the tool keeps about them (--cache-dir/toolchains) are there,
  // as the bare build has its image; the source cache is emptied first.
  const keptCache = fresh("cache");
  const cacheDir = async () => {
    await rm(path.join(keptCache, "sources"), { recursive: true, force: true });
    return keptCache;
  };

  // Untimed: the first build makes the builder image, which the bare build then runs in too.
  await buildWithTool("runc", tag, source, bookworm, fresh("out"), await cacheDir(), ["--no-cache"], env(scope));

  // Cold tool vs bare, and the no-op rerun of each cold build.
  const cold: number[] = [];
  const bare: number[] = [];
  const noop: number[] = [];
  let builder = "";
  let like: Built["manifest"] | undefined;
  for (let i = 0; i < runs; i++) {
    const out = fresh("out");
    const src = fresh("bare");
    const args = ["--no-cache"];
    // The tool first on even runs, the bare build on odd ones (like the first run's build).
    if (i % 2) bare.push(await bareBuild("runc", tag, source, like!, src));
    const built = await buildWithTool("runc", tag, source, bookworm, out, await cacheDir(), args, env(scope));
    cold.push(built.seconds);
    like = built.manifest;
    builder = built.manifest.toolchain.builderImage;
    const again = await buildWithTool("runc", tag, source, bookworm, out, keptCache, args, env(scope));
    if (again.status !== "cached") throw new Error(`the rerun into ${out} was ${again.status}, not cached`);
    noop.push(again.seconds);
    if (i % 2 === 0) bare.push(await bareBuild("runc", tag, source, like, src));
    progress(`cold ${i + 1}/${runs}: tool ${cold.at(-1)!.toFixed(2)} s, bare ${bare.at(-1)!.toFixed(2)} s, no-op ${noop.at(-1)!.toFixed(2)} s`);
    await Promise.all([out, src].map((d) => rm(d, { recursive: true, force: true })));
  }
  rows.push({ what: `cold nokmem-build runc ${tag}`, measured: cold, against: "bare git clone + docker run make", baseline: bare, target: "≤ 1.05×" });

  // Warm: another tag on a cache the first tag warmed (a fresh volume per run) vs that tag cold.
  const warm: number[] = [];
  const coldOther: number[] = [];
  let warmLike: Built["manifest"] | undefined;
  const shas = new Set<string>();
  for (let i = 0; i < runs; i++) {
    const runScope = env(`${scope}-w${i}`);
    await buildWithTool("runc", tag, source, bookworm, fresh("out"), await cacheDir(), [], runScope); // warms the volume, untimed
    const c = await buildWithTool("runc", warmTag, source, bookworm, fresh("out"), await cacheDir(), ["--no-cache"], runScope);
    const w = await buildWithTool("runc", warmTag, source, bookworm, fresh("out"), await cacheDir(), [], runScope);
    coldOther.push(c.seconds);
    warmLike = c.manifest;
    warm.push(w.seconds);
    shas.add(c.sha256).add(w.sha256);
    progress(`warm ${i + 1}/${runs}: ${warmTag} cold ${c.seconds.toFixed(2)} s, warm ${w.seconds.toFixed(2)} s`);
  }
  rows.push({ what: `warm rerun: ${warmTag} after ${tag}`, measured: warm, against: `${warmTag} cold (--no-cache)`, baseline: coldOther, target: "≤ 0.5×" });
  rows.push({ what: `no-op rerun of runc ${tag}`, measured: noop, against: "the cold build above", baseline: cold, target: "≤ 1 s" });

  let jobsScopes = 0;
  /**
   * `build` of two targets with --jobs 2 and --jobs 1, taking turns to go first: their seconds.
   * `warmUp` (untimed) runs before each build, on the scope (a fresh one per build when it warms).
   */
  const jobsRuns = async (targets: string[], flags: string[], warmUp?: (scopeEnv: NodeJS.ProcessEnv) => Promise<unknown>, label = "") => {
    const jobs: Record<1 | 2, number[]> = { 1: [], 2: [] };
    for (let i = 0; i < runs; i++) {
      for (const j of i % 2 ? ([2, 1] as const) : ([1, 2] as const)) {
        const pairEnv = env(warmUp ? `${scope}-j${jobsScopes++}` : scope);
        await warmUp?.(pairEnv);
        const r = await tool(["build", ...targets, "--jobs", String(j), ...flags, "--allow-unpinned", "--out", fresh("out"), "--cache-dir", await cacheDir(), "--json"], pairEnv);
        jobs[j].push(r.seconds);
      }
      progress(`jobs (${label}) ${i + 1}/${runs}: --jobs 1 ${jobs[1].at(-1)!.toFixed(2)} s, --jobs 2 ${jobs[2].at(-1)!.toFixed(2)} s`);
    }
    return jobs;
  };
  const runcFlags = ["--source", `runc=${source}`, "--go-image", `runc=${bookworm}`];
  const warmRunc = (e: NodeJS.ProcessEnv) => buildWithTool("runc", jobsWarmTag, source, bookworm, fresh("out"), keptCache, [], e);

  // Two neighbouring tags: cold (--no-cache), where both builds compile the standard library and
  // so compete for the cores, and as the tool builds by default, on the toolchain's shared Go
  // cache, warmed before each pair by a build of a third tag.
  for (const warmCache of [false, true]) {
    const jobs = await jobsRuns([`runc@${tag}`, `runc@${warmTag}`], [...runcFlags, ...(warmCache ? [] : ["--no-cache"])], warmCache ? warmRunc : undefined, warmCache ? "warm cache" : "cold");
    const what = `build runc@${tag} runc@${warmTag} --jobs 2${warmCache ? ` (cache warmed by ${jobsWarmTag})` : " --no-cache"}`;
    // Cold, each build compiles the whole standard library itself with both cores busy: reported, no target.
    rows.push({ what, measured: jobs[2], against: "--jobs 1", baseline: jobs[1], target: warmCache ? "≤ 0.75×" : "— (CPU-bound)" });
  }

  // What compiling both at once gives here, which --jobs no longer does for targets on one cache:
  // the same two targets built bare (clone + docker run make), side by side vs one after the other,
  // on a Go cache volume warmed the same way by the tool.
  const bare2: Record<"seq" | "par", number[]> = { seq: [], par: [] };
  const likeOf = { [tag]: like!, [warmTag]: warmLike! };
  for (let i = 0; i < runs; i++) {
    for (const mode of i % 2 ? (["par", "seq"] as const) : (["seq", "par"] as const)) {
      const pairEnv = env(`${scope}-b${i}-${mode}`);
      await buildWithTool("runc", jobsWarmTag, source, bookworm, fresh("out"), await cacheDir(), [], pairEnv);
      const listed = JSON.parse((await timed(process.execPath, [CLI, "cache", "list", "--cache-dir", keptCache, "--json"], pairEnv)).stdout);
      const volume: string = listed.entries.find((e: { kind: string }) => e.kind === "volume").name;
      const pair = [tag, warmTag].map((t) => ({ t, dir: fresh("bare") }));
      const one = ({ t, dir }: (typeof pair)[number]) => bareRun("runc", t, source, likeOf[t]!, dir, volume);
      await flushed();
      const start = process.hrtime.bigint();
      if (mode === "par") await Promise.all(pair.map(one));
      else for (const p of pair) await one(p);
      bare2[mode].push(Number(process.hrtime.bigint() - start) / 1e9);
      for (const { t, dir } of pair) {
        await handBack(dir, likeOf[t]!);
        await rm(dir, { recursive: true, force: true });
      }
    }
    progress(`bare pair ${i + 1}/${runs}: one after the other ${bare2.seq.at(-1)!.toFixed(2)} s, side by side ${bare2.par.at(-1)!.toFixed(2)} s`);
  }
  rows.push({ what: `bare clone + docker run make of both, side by side (same warm-up)`, measured: bare2.par, against: "one after the other", baseline: bare2.seq, target: "— (both compiling at once)" });

  // Two targets that share no Go cache (runc and kubelet: two toolchains), each cache warmed by
  // another version of its component: what --jobs gives where the builds have nothing to share.
  const kubeFixture = path.join(work, "upstream-kubernetes");
  await createKubeletFixture(kubeFixture, KUBELET_FIXTURE_TAGS.filter((t) => [MIXED_KUBE_TAG, MIXED_KUBE_WARM_TAG].includes(t.tag)));
  const bullseye = await goImageOf("bullseye");
  const mixed = await jobsRuns(
    [`runc@${tag}`, `kubelet@${MIXED_KUBE_TAG}`],
    [...runcFlags, "--source", `kubelet=${kubeFixture}`, "--go-image", `kubelet=${bullseye}`],
    async (e) => {
      await warmRunc(e);
      await buildWithTool("kubelet", MIXED_KUBE_WARM_TAG, kubeFixture, bullseye, fresh("out"), keptCache, [], e);
    },
    "two toolchains",
  );
  rows.push({ what: `build runc@${tag} kubelet@${MIXED_KUBE_TAG} (fixture) --jobs 2 (caches warmed by runc@${jobsWarmTag}, kubelet@${MIXED_KUBE_WARM_TAG})`, measured: mixed[2], against: "--jobs 1", baseline: mixed[1], target: "≤ 0.75×" });

  // A Kubernetes-sized tree: cold tool vs bare.
  let kubeNote = "";
  if (values["kube-tree"] || values["kube-source"]) {
    const kubeTag = values["kube-source"] ? values["kube-tag"]! : "v1.18.6";
    const kubeSource = values["kube-source"] ?? path.join(work, "kube-tree");
    if (values["kube-tree"]) {
      progress(`generating a Kubernetes-sized tree: ${kubeFiles} filler files, about ${kubeMb} MB`);
      await createKubeTree(kubeSource, kubeFiles, kubeMb);
    }
    await buildWithTool("kubelet", kubeTag, kubeSource, bullseye, fresh("out"), await cacheDir(), ["--no-cache"], env(scope)); // the builder image, untimed
    const kt: number[] = [];
    const kb: number[] = [];
    let kubeLike: Built["manifest"] | undefined;
    for (let i = 0; i < runs; i++) {
      const out = fresh("out");
      const src = fresh("bare");
      if (i % 2) kb.push(await bareBuild("kubelet", kubeTag, kubeSource, kubeLike!, src));
      const built = await buildWithTool("kubelet", kubeTag, kubeSource, bullseye, out, await cacheDir(), ["--no-cache"], env(scope));
      kt.push(built.seconds);
      kubeLike = built.manifest;
      if (i % 2 === 0) kb.push(await bareBuild("kubelet", kubeTag, kubeSource, kubeLike, src));
      progress(`kubelet ${i + 1}/${runs}: tool ${kt.at(-1)!.toFixed(2)} s, bare ${kb.at(-1)!.toFixed(2)} s`);
      await Promise.all([out, src].map((d) => rm(d, { recursive: true, force: true })));
    }
    const files = values["kube-tree"] ? `generated tree, ${kubeFiles} files + fixture, ~${kubeMb} MB` : kubeSource;
    kubeNote = `; kubelet ${kubeTag} from ${files}`;
    rows.push({ what: `cold nokmem-build kubelet ${kubeTag}`, measured: kt, against: "bare git clone + docker run make", baseline: kb, target: "≤ 1.05×" });
  }

  console.log(`runc ${tag} and ${warmTag} from ${values.source ?? "the test fixture"}${kubeNote}; ${runs} run(s) each, alternating; builder ${builder}; ${os.availableParallelism()} CPUs`);
  console.log(table(rows));
  console.log(`sha256 of ${warmTag}, cold and warm: ${[...shas].join(", ")} (${shas.size === 1 ? "equal" : "DIFFERENT"})`);
  if (shas.size !== 1) process.exitCode = 1;
} finally {
  // The benchmark's own cache volumes only (its scopes), through the tool's own prune.
  const empty = fresh("empty");
  for (const s of scopes.filter((x, i) => scopes.indexOf(x) === i)) {
    await tool(["cache", "prune", "--cache-dir", empty, "--json"], { [SCOPE_ENV]: s }).catch((err: Error) => progress(`could not prune scope ${s}: ${err.message}`));
  }
  await rm(work, { recursive: true, force: true });
}
