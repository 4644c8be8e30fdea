import { mkdir, readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeTree } from "../fixtures/node-trees.js";
import { createRuncFixture } from "../fixtures/runc-fixture.js";
import { bootstrapGoImage, cli, removeDir, run, tempDir } from "../helpers.js";
import { gaugeValue, parseExposition } from "../prometheus.js";

// The node commands from the node image, with nothing on the "node" but the engine:
// the results must equal the CLI's own, run directly against the same recorded tree.
let work: string;
let image: string;
let runc: string;

/**
 * The image as an operator runs it on a node: host PID, the host's root at /host
 * (here a recorded tree). Without --privileged, which this sandbox's engine cannot
 * grant and which doctor and verify, reading files, do not need.
 */
const inImage = (tree: string, args: string[], mounts: string[] = []) =>
  run("docker", ["run", "--rm", "--network", "none", "--pid=host", "-v", `${tree}:/host`, ...mounts, image, ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );

beforeAll(async () => {
  work = await tempDir("node-image");
  const res = await cli(["node-image", "--json"]);
  expect(res.code, res.stderr).toBe(0);
  image = JSON.parse(res.stdout).image;
  const repo = path.join(work, "runc");
  await createRuncFixture(repo);
  const out = path.join(work, "dist");
  const built = await cli(["runc", "v1.0.0-rc9", "--source", repo, "--allow-unpinned", "--go-image", await bootstrapGoImage("bookworm"), "--out", out, "--cache-dir", path.join(work, "cache"), "--json"]);
  expect(built.code, built.stderr).toBe(0);
  runc = path.join(out, JSON.parse(built.stdout).asset);
});

afterAll(() => removeDir(work));

describe("the node image", () => {
  it("is made once and reused: the same reference, nothing rebuilt", async () => {
    const again = await cli(["node-image", "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, image, created: false });
    const { stdout } = await run("docker", ["run", "--rm", "--network", "none", image, "--version"]);
    expect(stdout.trim()).toBe(JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")).version);
  });

  it("doctor --root /host reports on a leaking CentOS 7 tree exactly as the CLI does", async () => {
    const tree = path.join(work, "node-leaking");
    await createNodeTree(tree, {
      release: "3.10.0-957.21.3.el7.x86_64",
      cmdline: "BOOT_IMAGE=/vmlinuz-3.10.0-957.21.3.el7.x86_64 root=/dev/mapper/centos-root ro",
      cgroup: "v1",
      countedMemoryCgroups: 65530,
      pods: 3,
      kmemActive: true,
      binaries: { runc },
    });
    const fromImage = await inImage(tree, ["doctor", "--root", "/host", "--json"]);
    const direct = await cli(["doctor", "--root", tree, "--json"]);
    expect(fromImage.code).toBe(1);
    expect(direct.code).toBe(1);
    const report = JSON.parse(fromImage.stdout);
    expect(report).toEqual({ ...JSON.parse(direct.stdout), root: "/host" });
    expect(report.memoryCgroups).toEqual({ counted: 65530, present: 7, leaked: 65523 });
    expect(report.findings.find((f: { topic: string }) => f.topic === "runc")).toMatchObject({ status: "ok" });
  });

  it("doctor --metrics writes the textfile collector's file into a mounted directory, with the gauges the CLI writes", async () => {
    const tree = path.join(work, "node-metrics");
    await createNodeTree(tree, {
      release: "3.10.0-957.21.3.el7.x86_64",
      cmdline: "BOOT_IMAGE=/vmlinuz-3.10.0-957.21.3.el7.x86_64 ro",
      cgroup: "v1",
      countedMemoryCgroups: 52000,
      pods: 2,
      kmemActive: true,
      bootId: "5d2f7c1e-9a43-4b6e-8f10-3c7d9e2a4b61",
      binaries: { runc },
    });
    const textfile = path.join(work, "textfile");
    await mkdir(textfile);
    const fromImage = await inImage(tree, ["doctor", "--root", "/host", "--metrics", "/textfile/nokmem.prom", "--state", "/textfile/state.json"], ["-v", `${textfile}:/textfile`]);
    expect(fromImage.code).toBe(1);
    expect((await readdir(textfile)).sort()).toEqual(["nokmem.prom", "state.json"]);
    const direct = await cli(["doctor", "--root", tree, "--metrics", path.join(work, "direct.prom"), "--state", path.join(work, "direct-state.json")]);
    expect(direct.code).toBe(1);

    const families = parseExposition(await readFile(path.join(textfile, "nokmem.prom"), "utf8"));
    expect(families).toEqual(parseExposition(await readFile(path.join(work, "direct.prom"), "utf8")));
    expect(gaugeValue(families, "nokmem_memory_cgroups_counted")).toBe(52000);
    expect(gaugeValue(families, "nokmem_memory_cgroups_present")).toBe(6);
    expect(gaugeValue(families, "nokmem_kmem_active")).toBe(1);
    expect(families.get("nokmem_binary_kmem_enabled")?.metrics).toEqual([{ value: "0", labels: { component: "runc", path: "/usr/bin/runc" } }]);
    // One sample so far: no rate, and the state kept in the mounted directory names the boot.
    expect(families.has("nokmem_memory_cgroups_leak_rate_per_hour")).toBe(false);
    expect(JSON.parse(await readFile(path.join(textfile, "state.json"), "utf8"))).toMatchObject({ root: "/host", samples: [{ counted: 52000, present: 6, bootId: "5d2f7c1e-9a43-4b6e-8f10-3c7d9e2a4b61" }] });
  });

  it("verify judges a binary on the host from inside the image as the CLI does", async () => {
    const fromImage = await inImage(path.dirname(runc), ["verify", "--json", `/host/${path.basename(runc)}`]);
    const direct = await cli(["verify", "--json", runc]);
    expect(fromImage.code).toBe(0);
    const strip = (r: { results: Array<{ file: string }> }) => r.results.map(({ file: _file, ...rest }) => rest);
    expect(strip(JSON.parse(fromImage.stdout))).toEqual(strip(JSON.parse(direct.stdout)));
  });
});
