import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, readdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeTree, type NodeSpec } from "../fixtures/node-trees.js";
import { CLI, cli, removeDir, tempDir } from "../helpers.js";
import { gaugeValue, parseExposition } from "../prometheus.js";

// doctor --metrics and doctor serve against recorded node trees, read back with a Prometheus text-format parser.
let work: string;
const H = 3600_000;

const leaking: NodeSpec = {
  release: "3.10.0-957.21.3.el7.x86_64",
  cmdline: "BOOT_IMAGE=/vmlinuz-3.10.0-957.21.3.el7.x86_64 root=/dev/mapper/centos-root ro",
  cgroup: "v1",
  countedMemoryCgroups: 41000,
  pods: 3,
  kmemActive: true,
  binaries: {},
};
const healthy: NodeSpec = {
  release: "3.10.0-1160.el7.x86_64",
  cmdline: "BOOT_IMAGE=/vmlinuz-3.10.0-1160.el7.x86_64 ro cgroup.memory=nokmem",
  cgroup: "v1",
  countedMemoryCgroups: 7,
  pods: 3,
  binaries: {},
};

async function tree(name: string, spec: NodeSpec, bootId?: string): Promise<string> {
  const root = path.join(work, name);
  await createNodeTree(root, { ...spec, bootId });
  return root;
}

/** A state file as doctor keeps it, with samples recorded `hoursAgo` before now. */
async function seedState(file: string, root: string, samples: Array<{ hoursAgo: number; counted: number; present: number; bootId?: string }>) {
  const now = Date.now();
  const state = { version: 1, root, samples: samples.map(({ hoursAgo, ...s }) => ({ time: now - hoursAgo * H, ...s })) };
  await writeFile(file, JSON.stringify(state));
}

beforeAll(async () => {
  work = await tempDir("doctor-metrics");
});
afterAll(() => removeDir(work));

describe("doctor --metrics", () => {
  it("a leaking el7 node: the gauges, and the forecast from its recorded samples", async () => {
    const root = await tree("leaking", leaking, "b0a7c3f1-0000-4000-8000-000000000001");
    const state = path.join(work, "leaking-state.json");
    // 100 leaked per hour for the last 6 hours, same boot.
    await seedState(state, root, [6, 4, 2, 1].map((h) => ({ hoursAgo: h, counted: 41000 - 100 * h, present: 7, bootId: "b0a7c3f1-0000-4000-8000-000000000001" })));
    const out = path.join(work, "textfile", "nokmem.prom");
    await mkdir(path.dirname(out));
    const res = await cli(["doctor", "--root", root, "--state", state, "--metrics", out, "--json"]);
    expect(res.code, res.stderr).toBe(1);

    const families = parseExposition(await readFile(out, "utf8"));
    expect(gaugeValue(families, "nokmem_memory_cgroups_counted")).toBe(41000);
    expect(gaugeValue(families, "nokmem_memory_cgroups_present")).toBe(7);
    expect(gaugeValue(families, "nokmem_memory_cgroups_limit")).toBe(65535);
    expect(gaugeValue(families, "nokmem_kmem_active")).toBe(1);
    expect(gaugeValue(families, "nokmem_kernel_nokmem_option")).toBe(0);
    const rate = gaugeValue(families, "nokmem_memory_cgroups_leak_rate_per_hour")!;
    expect(rate).toBeGreaterThan(99);
    expect(rate).toBeLessThan(101);
    const seconds = gaugeValue(families, "nokmem_memory_cgroups_seconds_until_limit")!;
    expect(seconds / 3600).toBeCloseTo((65535 - 41000) / rate, 3);
    for (const f of families.values()) expect(f.help.length, f.name).toBeGreaterThan(10);
    // Only the file itself in the collector's directory: the temporary file was renamed.
    expect(await readdir(path.dirname(out))).toEqual(["nokmem.prom"]);

    const report = JSON.parse(res.stdout);
    expect(report.forecast).toMatchObject({ samples: 5 });
    expect(report.forecast.secondsUntilLimit).toBeCloseTo(seconds, 3);
    // The sample was kept: the state now holds five.
    expect(JSON.parse(await readFile(state, "utf8")).samples).toHaveLength(5);

    const text = await cli(["doctor", "--root", root, "--state", state]);
    expect(text.stdout).toMatch(/^RISK forecast: leaking 100\.\d memory cgroups per hour over 6\.0 h \(6 samples\): at the current rate this node reaches the limit in about 10 days$/m);
  });

  it("a healthy node with the kernel option: no leak, no time until the limit", async () => {
    const root = await tree("healthy", healthy);
    const state = path.join(work, "healthy-state.json");
    await seedState(state, root, [3, 2, 1].map((h) => ({ hoursAgo: h, counted: 7 + (h % 2), present: 7 + (h % 2) })));
    const out = path.join(work, "healthy.prom");
    const res = await cli(["doctor", "--root", root, "--state", state, "--metrics", out]);
    expect(res.code, res.stderr).toBe(0);
    const families = parseExposition(await readFile(out, "utf8"));
    expect(gaugeValue(families, "nokmem_kernel_nokmem_option")).toBe(1);
    expect(gaugeValue(families, "nokmem_kmem_active")).toBe(0);
    expect(gaugeValue(families, "nokmem_memory_cgroups_counted")).toBe(7);
    expect(gaugeValue(families, "nokmem_memory_cgroups_leak_rate_per_hour")).toBe(0);
    expect(families.has("nokmem_memory_cgroups_seconds_until_limit")).toBe(false);
    expect(res.stdout).toMatch(/^info forecast: no leak over the last 3\.0 h \(4 samples\)$/m);
  });

  it("after a reboot (new boot id) the series starts again: no rate from the old boot's samples", async () => {
    const root = await tree("rebooted", { ...leaking, countedMemoryCgroups: 900 }, "new-boot");
    const state = path.join(work, "rebooted-state.json");
    await seedState(state, root, [5, 3, 1].map((h) => ({ hoursAgo: h, counted: 60000 - 1000 * h, present: 7, bootId: "old-boot" })));
    const out = path.join(work, "rebooted.prom");
    const res = await cli(["doctor", "--root", root, "--state", state, "--metrics", out, "--json"]);
    expect(JSON.parse(res.stdout).forecast).toMatchObject({ samples: 1, leakRatePerHour: null, secondsUntilLimit: null });
    const families = parseExposition(await readFile(out, "utf8"));
    expect(gaugeValue(families, "nokmem_memory_cgroups_counted")).toBe(900);
    expect(families.has("nokmem_memory_cgroups_leak_rate_per_hour")).toBe(false);
    expect(families.has("nokmem_memory_cgroups_seconds_until_limit")).toBe(false);
    expect(JSON.parse(await readFile(state, "utf8")).samples).toEqual([expect.objectContaining({ counted: 900, bootId: "new-boot" })]);
  });

  it("cgroup v2: no counts and no forecast, the rest of the gauges still there", async () => {
    const root = await tree("v2", { release: "5.14.0-362.el9.x86_64", cmdline: "ro", cgroup: "v2", binaries: {} });
    const out = path.join(work, "v2.prom");
    const res = await cli(["doctor", "--root", root, "--state", path.join(work, "v2-state.json"), "--metrics", out]);
    expect(res.code, res.stderr).toBe(0);
    const families = parseExposition(await readFile(out, "utf8"));
    expect([...families.keys()].sort()).toEqual(["nokmem_kernel_nokmem_option", "nokmem_memory_cgroups_limit"]);
  });

  it("a metrics file in a directory that does not exist: one line, exit 1", async () => {
    const root = await tree("nodir", healthy);
    const res = await cli(["doctor", "--root", root, "--state", path.join(work, "nodir-state.json"), "--metrics", path.join(work, "missing", "x.prom")]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split("\n").at(-1)).toMatch(/^nokmem-build: error: .*ENOENT.*missing/);
  });
});

/** `doctor serve` as a child process; resolves with its base URL once it listens. */
function serve(args: string[]): Promise<{ child: ChildProcess; base: string; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, "doctor", "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (b) => {
      stderr += b;
      const url = stderr.match(/at (http:\/\/\S+)\/metrics/)?.[1];
      if (url) resolve({ child, base: url, stderr: () => stderr });
    });
    child.on("exit", (code) => reject(new Error(`doctor serve exited ${code}: ${stderr}`)));
  });
}

describe("doctor serve", () => {
  it("serves /metrics (a sample per scrape, kept in memory), /healthz, and stops cleanly on SIGTERM", async () => {
    const root = await tree("served", leaking);
    const { child, base } = await serve(["--listen", "127.0.0.1:0", "--root", root]);
    try {
      expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const families = parseExposition(await res.text());
      expect(gaugeValue(families, "nokmem_memory_cgroups_counted")).toBe(41000);
      expect(gaugeValue(families, "nokmem_kmem_active")).toBe(1);
      // The leak grows between scrapes; seconds apart is no rate yet (the series must span a quarter hour).
      await writeFile(path.join(root, "proc/cgroups"), (await readFile(path.join(root, "proc/cgroups"), "utf8")).replace("\t41000\t", "\t41050\t"));
      const again = parseExposition(await (await fetch(`${base}/metrics`)).text());
      expect(gaugeValue(again, "nokmem_memory_cgroups_counted")).toBe(41050);
      expect(again.has("nokmem_memory_cgroups_leak_rate_per_hour")).toBe(false);
      expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok\n");
      expect((await fetch(`${base}/`)).status).toBe(404);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });

  it("a binary replaced between scrapes is judged again (verdicts are kept per file identity)", async () => {
    // Any Go binary gets a verdict; the engine's own tools are Go. The tree stands in for a node whose runc it is.
    const goBinary = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/bin/ctr", "/usr/local/bin/docker", "/usr/bin/docker"].find((f) => existsSync(f));
    if (!goBinary) throw new Error("no Go binary on this machine (runc, ctr or docker) to stand in for the node's runc");
    const root = await tree("replaced", { ...leaking, binaries: { runc: goBinary } });
    const { child, base } = await serve(["--listen", "127.0.0.1:0", "--root", root]);
    try {
      const scrape = async () => parseExposition(await (await fetch(`${base}/metrics`)).text()).get("nokmem_binary_kmem_enabled")?.metrics;
      expect(await scrape()).toEqual([{ value: "0", labels: { component: "runc", path: "/usr/bin/runc" } }]);
      expect(await scrape()).toEqual([{ value: "0", labels: { component: "runc", path: "/usr/bin/runc" } }]);
      // Replaced in one rename, as install does, by something that is no Go binary: no verdict, no sample.
      await copyFile("/bin/sh", path.join(root, "usr/bin/runc.new"));
      await rename(path.join(root, "usr/bin/runc.new"), path.join(root, "usr/bin/runc"));
      expect(await scrape()).toBeUndefined();
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });

  it("bad input is one line and exit 2: --listen without a port, a --root that is no node", async () => {
    const bad = await cli(["doctor", "serve", "--listen", "0.0.0.0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--listen 0\.0\.0\.0: expected HOST:PORT/);
    const noRoot = await cli(["doctor", "serve", "--listen", "127.0.0.1:0", "--root", path.join(work, "nowhere")]);
    expect(noRoot.code).toBe(2);
    expect(noRoot.stderr.trim()).toMatch(/^nokmem-build: error: --root .*nowhere: no such directory; expected the node's root file system/);
  });
});
