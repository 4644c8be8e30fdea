import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeletFixture } from "../fixtures/kubelet-fixture.js";
import { createRuncFixture } from "../fixtures/runc-fixture.js";
import { bootstrapGoImage, cli, listDir, removeDir, run, tempDir, toolContainers } from "../helpers.js";

let work: string;
let common: string[];

beforeAll(async () => {
  work = await tempDir("many-e2e");
  await createRuncFixture(path.join(work, "runc"));
  await createKubeletFixture(path.join(work, "kubernetes"));
  common = [
    "--source", `runc=${path.join(work, "runc")}`, "--source", `kubelet=${path.join(work, "kubernetes")}`,
    "--go-image", `runc=${await bootstrapGoImage("bookworm")}`, "--go-image", `kubelet=${await bootstrapGoImage("bullseye")}`,
    "--allow-unpinned", "--out", path.join(work, "dist"), "--cache-dir", path.join(work, "cache"), "--json",
  ];
});

afterAll(() => removeDir(work));

describe("nokmem-build build: many targets at once", () => {
  it("one failing and one refused target never cost the others their artifacts; the exit status says not all built", async () => {
    const res = await cli(["build", "runc@v1.0.0-rc9", "runc@v1.0.0-rc8", "kubelet@v1.12.8", "runc@v1.0.0-rc95", "kubelet@v1.18.6", "--jobs", "2", ...common]);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout);
    expect(report.targets.map((t: { target: string; status: string }) => `${t.target} ${t.status}`)).toEqual([
      "runc@v1.0.0-rc9 built",
      "runc@v1.0.0-rc8 failed",
      "kubelet@v1.12.8 built",
      "runc@v1.0.0-rc95 refused",
      "kubelet@v1.18.6 built",
    ]);
    expect(report.targets[1].reason).toMatch(/`make static BUILDTAGS='seccomp nokmem'` failed/);
    expect(report.targets[3].reason).toMatch(/upstream removed kernel-memory accounting/);
    const dist = path.join(work, "dist");
    const files = await listDir(dist);
    for (const asset of ["runc-v1.0.0-rc9", "kubelet-v1.12.8", "kubelet-v1.18.6"]) expect(files).toContain(`${asset}-nokmem-linux-amd64`);
    expect(files.some((f) => f.includes("rc8"))).toBe(false);
    // Builds that ran side by side all made it into one SHA256SUMS, and it checks out.
    const { stdout } = await run("sha256sum", ["-c", "SHA256SUMS"], { cwd: dist });
    expect(stdout.split("\n").filter((l) => l.endsWith(": OK"))).toHaveLength(files.length - 1);
    expect(await toolContainers()).toEqual([]);
  });

  it("targets on one Go cache compile one after the other, the second on what the first compiled; another toolchain's target compiles beside them", async () => {
    const out = path.join(work, "dist-turns");
    const since = Date.now() / 1000;
    let pid = 0;
    const res = await cli(["build", "runc@v1.0.0-rc10", "runc@v1.0.0-rc6", "kubelet@v1.18.6", "--jobs", "3", ...common, "--out", out], {}, (child) => (pid = child.pid!));
    expect(res.code).toBe(0);
    const manifests = await Promise.all(
      ["runc-v1.0.0-rc10", "runc-v1.0.0-rc6", "kubelet-v1.18.6"].map(async (a) => JSON.parse(await readFile(path.join(out, `${a}-nokmem-linux-amd64.json`), "utf8"))),
    );
    const [rc10, rc6, kubelet] = manifests.map((m) => m.toolchain.builderImage as string);
    expect(rc10).toBe(rc6);
    expect(kubelet).not.toBe(rc10);
    // When each build's compile container ran (its last container: a toolchain probe may come first), from the engine's events.
    const { stdout } = await run("docker", [
      "events", "--since", since.toFixed(3), "--until", (Date.now() / 1000 + 1).toFixed(3), "--filter", `label=io.nokmem-build.pid=${pid}`,
      "--filter", "type=container", "--filter", "event=start", "--filter", "event=die",
      "--format", '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "io.nokmem-build.run"}} {{index .Actor.Attributes "image"}}',
    ]);
    const compiles = new Map<string, { image: string; start: number; die: number }>();
    for (const [nanos, action, runId, image] of stdout.trim().split("\n").map((l) => l.split(" "))) {
      const at = Number(nanos) / 1e9;
      if (action === "start") compiles.set(runId!, { image: image!, start: at, die: Infinity });
      else compiles.get(runId!)!.die = at;
    }
    const of = (image: string) => [...compiles.values()].filter((s) => s.image === image).sort((a, b) => a.start - b.start);
    const [first, second] = of(rc10);
    const [other] = of(kubelet);
    expect(of(rc10)).toHaveLength(2);
    expect(of(kubelet)).toHaveLength(1);
    expect(second!.start).toBeGreaterThanOrEqual(first!.die);
    expect(other!.start).toBeLessThan(first!.die);
    // The one that waited says so in its log and compiled on the cache the other had just filled.
    const logs = await Promise.all(["runc-v1.0.0-rc10", "runc-v1.0.0-rc6"].map((a) => readFile(path.join(out, `${a}-nokmem-linux-amd64.log`), "utf8")));
    const waited = logs.map((l) => /waited [\d.]+ s for runc (v1\.0\.0-rc\d+) to finish compiling on the same Go cache/.exec(l)?.[1]);
    expect(waited.filter(Boolean)).toHaveLength(1);
    const w = waited[0] ? 0 : 1;
    expect(waited[w]).toBe(["v1.0.0-rc6", "v1.0.0-rc10"][w]);
    expect(manifests[w].build.goCache).toBe("warm");
    expect(await readFile(path.join(out, "kubelet-v1.18.6-nokmem-linux-amd64.log"), "utf8")).not.toMatch(/waited/);
  });

  it("keeps a target whose artifacts already check out (cached), and --force rebuilds it", async () => {
    const again = JSON.parse((await cli(["build", "kubelet@v1.12.8", ...common])).stdout);
    expect(again.targets).toEqual([expect.objectContaining({ target: "kubelet@v1.12.8", status: "cached" })]);
    const forced = JSON.parse((await cli(["build", "kubelet@v1.12.8", "--force", ...common])).stdout);
    expect(forced.targets[0]).toMatchObject({ status: "built", sha256: again.targets[0].sha256 });
  });

  it.each([
    [["runc@"], /target 'runc@': expected COMPONENT@VERSION/],
    [["containerd@v1.6.0"], /target 'containerd@v1.6.0'/],
    [[], /name targets .* or --all/],
    [["runc@v1.0.0-rc9", "--all"], /not both/],
    [["runc@v1.0.0-rc9", "--jobs", "0"], /--jobs 0: expected a whole number from 1 to 16/],
  ])("usage errors %j exit 2 before any work", async (args, message) => {
    const out = path.join(work, "dist-usage");
    const res = await cli(["build", ...args, "--out", out]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});
