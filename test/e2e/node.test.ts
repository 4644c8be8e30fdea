import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, copyFile, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeletFixture } from "../fixtures/kubelet-fixture.js";
import { createNodeTree } from "../fixtures/node-trees.js";
import { createRuncFixture } from "../fixtures/runc-fixture.js";
import { bareBuild, builderOf, stockRunc } from "../fixtures/bare-build.js";
import { buildRpm, installRpm, toEl7RpmDatabase } from "../fixtures/rpm-packages.js";
import { putStandInSystemctl, standInCalls } from "../fixtures/standin-systemctl.js";
import { bootstrapGoImage, cli, removeDir, run, tempDir } from "../helpers.js";

let work: string;
const bin: Record<string, string> = {};

async function buildWithTool(component: string, tag: string, repo: string, goImage: string): Promise<string> {
  const out = path.join(work, "dist");
  const res = await cli([component, tag, "--source", repo, "--allow-unpinned", "--go-image", goImage, "--out", out, "--cache-dir", path.join(work, "cache"), "--json"]);
  if (res.code !== 0) throw new Error(res.stdout + res.stderr);
  return path.join(out, `${component}-${tag}-nokmem-linux-amd64`);
}

beforeAll(async () => {
  work = await tempDir("node-e2e");
  const runcRepo = path.join(work, "runc");
  const kubeRepo = path.join(work, "kubernetes");
  await createRuncFixture(runcRepo);
  await createKubeletFixture(kubeRepo);
  const bookworm = await bootstrapGoImage("bookworm");
  const bullseye = await bootstrapGoImage("bullseye");

  bin.runc = await buildWithTool("runc", "v1.0.0-rc9", runcRepo, bookworm);
  bin.kubelet = await buildWithTool("kubelet", "v1.18.6", kubeRepo, bullseye);
  bin.kubeletPatched = await buildWithTool("kubelet", "v1.12.8", kubeRepo, bullseye);
  const kubeBuilder = await builderOf(bin.kubelet);
  bin.stockRunc = await stockRunc(work, runcRepo, bin.runc);
  bin.stockKubelet = await bareBuild(work, kubeRepo, "v1.18.6", kubeBuilder, "/src", "make kubelet", "_output/bin/kubelet", "stock-kubelet");
  bin.stockKubelet112 = await bareBuild(work, kubeRepo, "v1.12.8", kubeBuilder, "/src", "make kubelet", "_output/bin/kubelet", "stock-kubelet-112");
});

afterAll(() => removeDir(work));

const verify = async (...args: string[]) => {
  const res = await cli(["verify", "--json", ...args]);
  return { code: res.code, stderr: res.stderr, report: res.stdout.trim() ? JSON.parse(res.stdout) : undefined };
};
const check = (result: { checks: Array<{ name: string; ok: boolean; detail: string }> }, name: string) => result.checks.find((c) => c.name === name)!;

describe("verify", () => {
  it("tells a nokmem runc from a stock build of the same tag, from the binary's file table", async () => {
    const { code, report } = await verify(bin.runc!, bin.stockRunc!);
    expect(code).toBe(1);
    const [mine, stock] = report.results;
    expect(mine).toMatchObject({ kmem: "off", ok: true, component: "runc" });
    expect(check(mine, "kmem").detail).toContain("kmem_disabled.go is compiled in");
    expect(check(mine, "checksum")).toMatchObject({ ok: true, detail: expect.stringContaining("matches SHA256SUMS and") });
    expect(stock).toMatchObject({ kmem: "on", ok: false });
    expect(check(stock, "kmem").detail).toContain("kmem.go is compiled in");
  });

  it("tells them apart by behaviour: a container started with each, watched with strace", async () => {
    const mine = await verify("--runtime", bin.runc!);
    expect(mine.code, mine.stderr).toBe(0);
    expect(check(mine.report.results[0], "runtime").detail).toMatch(/never opened memory\.kmem\.limit_in_bytes for writing/);
    const stock = await verify("--runtime", bin.stockRunc!);
    expect(stock.code).toBe(1);
    expect(check(stock.report.results[0], "runtime")).toMatchObject({ ok: false, detail: expect.stringMatching(/opened memory\.kmem\.limit_in_bytes for writing/) });
    // No cgroup is left behind by the throwaway containers.
    expect((await readdir("/sys/fs/cgroup/memory")).filter((d) => d.startsWith("nokmem-verify-"))).toEqual([]);
  });

  it("still tells them apart after strip (the pclntab survives)", async () => {
    const dir = await tempDir("strip");
    try {
      for (const [name, file] of [["mine", bin.runc!], ["stock", bin.stockRunc!]] as const) {
        await copyFile(file, path.join(dir, name));
        await run("strip", [path.join(dir, name)]);
      }
      const { stdout } = await run("readelf", ["-SW", path.join(dir, "mine")]);
      expect(stdout).not.toContain(".symtab");
      const { report } = await verify(path.join(dir, "mine"), path.join(dir, "stock"));
      expect(report.results.map((r: { kmem: string }) => r.kmem)).toEqual(["off", "on"]);
    } finally {
      await removeDir(dir);
    }
  });

  it("accepts kubelet builds: the tag build, and the source-patched one on its manifest and patch", async () => {
    const { code, report } = await verify(bin.kubelet!, bin.kubeletPatched!);
    expect(code).toBe(0);
    expect(report.results.map((r: { component: string }) => r.component)).toEqual(["kubelet", "kubelet"]);
    expect(check(report.results[1], "patch")).toMatchObject({ ok: true, detail: expect.stringContaining("source-patched") });
  });

  it("refuses stock kubelets: kmem.go (v1.18) and the pre-split functions (v1.12)", async () => {
    const { code, report } = await verify(bin.stockKubelet!, bin.stockKubelet112!);
    expect(code).toBe(1);
    expect(report.results.map((r: { kmem: string }) => r.kmem)).toEqual(["on", "on"]);
    expect(check(report.results[1], "kmem").detail).toMatch(/EnableKernelMemoryAccounting \d+ bytes|setKernelMemory \d+ bytes/);
  });

  it("judges a lone kubelet, patched or not, from its function sizes alone: no manifest, unstripped and stripped", async () => {
    const dir = await tempDir("lone-kubelet");
    try {
      const files: string[] = [];
      for (const [name, file] of [["patched", bin.kubeletPatched!], ["stock", bin.stockKubelet112!]] as const) {
        for (const stripped of [false, true]) {
          const copy = path.join(dir, `${name}${stripped ? "-stripped" : ""}`);
          await copyFile(file, copy);
          if (stripped) await run("strip", [copy]);
          files.push(copy);
        }
      }
      const { report } = await verify(...files);
      expect(report.results.map((r: { kmem: string }) => r.kmem)).toEqual(["off", "off", "on", "on"]);
      // A stub is either tiny in the function table or inlined away; upstream's bodies are neither.
      for (const r of report.results.slice(0, 2)) expect(check(r, "kmem").detail).toMatch(/bodies that only return nil \(source-patched\)|without any function that enables kmem accounting/);
      for (const r of report.results.slice(2)) expect(check(r, "kmem").detail).toMatch(/(EnableKernelMemoryAccounting|setKernelMemory) \d+ bytes/);
      // No manifest or .patch beside them: the verdict rests on the binary alone.
      expect(report.results.every((r: { checks: Array<{ name: string }> }) => !r.checks.some((c) => c.name === "patch"))).toBe(true);
    } finally {
      await removeDir(dir);
    }
  });

  it("fails a binary whose bytes no longer match SHA256SUMS and its manifest", async () => {
    const dir = await tempDir("tamper");
    try {
      for (const f of await readdir(path.dirname(bin.runc!))) await copyFile(path.join(path.dirname(bin.runc!), f), path.join(dir, f));
      const copy = path.join(dir, path.basename(bin.runc!));
      const bytes = await readFile(copy);
      bytes[bytes.length - 1] ^= 0xff;
      await writeFile(copy, bytes);
      const { code, report } = await verify(copy);
      expect(code).toBe(1);
      expect(check(report.results[0], "checksum")).toMatchObject({ ok: false, detail: expect.stringContaining("does not match SHA256SUMS") });
    } finally {
      await removeDir(dir);
    }
  });

  it.each([
    ["/bin/ls", /\/bin\/ls is not a Go binary \(no Go runtime tables\)/],
    [path.join(import.meta.dirname, "node.test.ts"), /is not a Go binary \(not an ELF executable\)/],
    ["/no/such/file", /\/no\/such\/file: no such file/],
  ])("refuses %s plainly with exit 2", async (file, message) => {
    const res = await cli(["verify", file]);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(message);
  });
});

describe("doctor", () => {
  const doctor = async (root: string) => {
    const res = await cli(["doctor", "--root", root, "--json"]);
    return { code: res.code, report: JSON.parse(res.stdout) };
  };
  const finding = (report: { findings: Array<{ topic: string; status: string; summary: string; next?: string }> }, topic: string) =>
    report.findings.filter((f) => f.topic === topic);

  it("on a leaking el7 node: update the kernel or rebuild both binaries, then reboot to reclaim the leak", async () => {
    const root = path.join(work, "node-leaking");
    await createNodeTree(root, {
      release: "3.10.0-957.21.3.el7.x86_64",
      cmdline: "BOOT_IMAGE=/vmlinuz-3.10.0-957.21.3.el7.x86_64 root=/dev/mapper/centos-root ro crashkernel=auto rhgb quiet",
      cgroup: "v1",
      countedMemoryCgroups: 65530,
      pods: 3,
      kmemActive: true,
      binaries: { runc: bin.stockRunc!, kubelet: bin.stockKubelet! },
    });
    const { code, report } = await doctor(root);
    expect(code).toBe(1);
    expect(report.healthy).toBe(false);
    expect(finding(report, "kernel")[0]).toMatchObject({ status: "risk", summary: expect.stringContaining("ignores cgroup.memory=nokmem") });
    expect(report.memoryCgroups).toEqual({ counted: 65530, present: 7, leaked: 65523 });
    expect(finding(report, "leak")[0]!.next).toMatch(/^reboot to reclaim 65523 leaked memory cgroups/);
    expect(finding(report, "kubepods")[0]).toMatchObject({ status: "risk", summary: expect.stringContaining("3 pod cgroup(s) charged kernel memory") });
    expect(finding(report, "runc")[0]!.next).toBe(
      // runc on PATH: install's default shadows it with /usr/local/sbin/runc, so no --path.
      "nokmem-build runc v1.0.0-rc9 && nokmem-build install dist/runc-v1.0.0-rc9-nokmem-linux-amd64 --component runc",
    );
    // Under --root nothing is executed: runc's version is read from its stamp; kubelet's is asked of the operator.
    expect(finding(report, "kubelet")[0]!.next).toMatch(
      /^nokmem-build kubelet VERSION \(the version `\/usr\/bin\/kubelet --version` prints on the node\) && nokmem-build install .* --component kubelet --path \/usr\/bin\/kubelet$/,
    );
  });

  it("names the exact kubelet build from the version of the package that owns it (dpkg status, el7 rpm database): nothing executed", async () => {
    const leaking = { release: "3.10.0-957.21.3.el7.x86_64", cmdline: "ro", cgroup: "v1" as const, countedMemoryCgroups: 1000, pods: 1, kmemActive: true };
    const exact = "nokmem-build kubelet v1.18.6 && nokmem-build install dist/kubelet-v1.18.6-nokmem-linux-amd64 --component kubelet --path /usr/bin/kubelet";
    // An Ubuntu-style node: kubelet from the Kubernetes apt repository ("1.18.6-00").
    const deb = path.join(work, "node-kubelet-deb");
    await createNodeTree(deb, { ...leaking, binaries: { kubelet: bin.stockKubelet! } });
    await mkdir(path.join(deb, "var/lib/dpkg/info"), { recursive: true });
    await writeFile(path.join(deb, "var/lib/dpkg/info/kubelet.list"), "/.\n/usr\n/usr/bin\n/usr/bin/kubelet\n");
    await writeFile(path.join(deb, "var/lib/dpkg/status"), "Package: kubeadm\nStatus: install ok installed\nVersion: 1.19.0-00\n\nPackage: kubelet\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.18.6-00\n");
    // A CentOS 7 node: the kubelet rpm (1.18.6-0) in a Berkeley DB rpm database.
    const el7 = path.join(work, "node-kubelet-rpm");
    await createNodeTree(el7, { ...leaking, binaries: {} });
    await installRpm(el7, await buildRpm(path.join(work, "kubelet-rpm"), { name: "kubelet", version: "1.18.6", release: "0", files: { "/usr/bin/kubelet": bin.stockKubelet! } }));
    await toEl7RpmDatabase(el7);
    for (const [root, owner] of [[deb, "dpkg package kubelet: hold it after installing, apt-mark hold kubelet"], [el7, "rpm package kubelet: hold it after installing, yum install -y yum-plugin-versionlock && yum versionlock add kubelet"]] as const) {
      const { report } = await doctor(root);
      const [kubelet] = finding(report, "kubelet");
      expect(kubelet!.summary).toContain(`(owned by the ${owner})`);
      expect(kubelet!.next).toBe(exact);
    }
  });

  it("on a fixed el7 node (boot flag, nokmem binaries, no leak): healthy", async () => {
    const root = path.join(work, "node-fixed");
    await createNodeTree(root, {
      release: "3.10.0-1160.119.1.el7.x86_64",
      cmdline: "BOOT_IMAGE=/vmlinuz-3.10.0-1160.119.1.el7.x86_64 root=/dev/mapper/centos-root ro cgroup.memory=nokmem",
      cgroup: "v1",
      countedMemoryCgroups: 7,
      pods: 3,
      kmemActive: false,
      binaries: { runc: bin.runc!, kubelet: bin.kubelet! },
    });
    const { code, report } = await doctor(root);
    expect(code).toBe(0);
    expect(report.findings.map((f: { status: string }) => f.status)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
  });

  it("on an el7 kernel that supports the flag without it: the exact grubby command", async () => {
    const root = path.join(work, "node-noflag");
    await createNodeTree(root, {
      release: "3.10.0-1062.4.1.el7.x86_64",
      cmdline: "ro quiet",
      cgroup: "v1",
      countedMemoryCgroups: 4,
      pods: 0,
      binaries: { runc: bin.stockRunc! },
    });
    const { code, report } = await doctor(root);
    expect(code).toBe(1);
    expect(finding(report, "kernel")[0]!.next).toBe(
      "grubby --args=cgroup.memory=nokmem --update-kernel /boot/vmlinuz-3.10.0-1062.4.1.el7.x86_64 && reboot   # then check: grep nokmem /proc/cmdline",
    );
  });

  it("on a cgroup v2 node: the leak does not apply, even with stock binaries", async () => {
    const root = path.join(work, "node-v2");
    await createNodeTree(root, { release: "5.14.0-362.8.1.el9_3.x86_64", cmdline: "ro", cgroup: "v2", binaries: { runc: bin.stockRunc! } });
    const { code, report } = await doctor(root);
    expect(code).toBe(0);
    expect(report.cgroup).toBe("v2");
    expect(finding(report, "runc")[0]!.status).toBe("info");
  });

  it("runs against this machine's real /proc and /sys", async () => {
    const res = await cli(["doctor", "--json"]);
    expect([0, 1]).toContain(res.code);
    const report = JSON.parse(res.stdout);
    expect(report.kernel).toBe(os.release());
    expect(report.cgroup).toBe((await stat("/sys/fs/cgroup/cgroup.controllers").catch(() => undefined)) ? "v2" : "v1");
  });

  it("exits 2 for a root that is not a node tree", async () => {
    const res = await cli(["doctor", "--root", path.join(work, "nothing-here")]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--root .*nothing-here: no such directory/);
  });
});

describe("install and rollback", () => {
  async function snapshot(root: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const name of await readdir(path.join(root, "usr/bin"))) {
      const file = path.join(root, "usr/bin", name);
      const st = await stat(file);
      out[name] = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${createHash("sha256").update(await readFile(file)).digest("hex")}`;
    }
    return out;
  }

  async function nodeWithStockRunc(name: string): Promise<string> {
    const root = path.join(work, name);
    await createNodeTree(root, { release: "3.10.0-957.el7.x86_64", cmdline: "ro", cgroup: "v1", binaries: { runc: bin.stockRunc! } });
    await chown(path.join(root, "usr/bin/runc"), 4242, 4242);
    await chmod(path.join(root, "usr/bin/runc"), 0o750);
    return root;
  }

  it("install --path -> rollback round-trips byte for byte, keeping mode and owner, restarting what runs", async () => {
    const root = await nodeWithStockRunc("node-install");
    // The node's systemctl, a stand-in (no systemd here) reporting containerd and kubelet as running, docker as not.
    await putStandInSystemctl(root, ["containerd", "kubelet"]);
    const before = await snapshot(root);

    const res = await cli(["install", bin.runc!, "--component", "runc", "--root", root, "--path", "/usr/bin/runc", "--restart", "--json"]);
    expect(res.code, res.stderr).toBe(0);
    const result = JSON.parse(res.stdout);
    expect(result).toMatchObject({ restarted: ["containerd"], restartedVia: `chroot ${root}` });
    const installed = path.join(root, "usr/bin/runc");
    expect(await readFile(installed)).toEqual(await readFile(bin.runc!));
    const st = await stat(installed);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o750, 4242, 4242]);
    const backup = path.join(root, result.backup);
    expect(result.backup).toMatch(/^\/usr\/bin\/runc\.nokmem-backup-\d{8}T\d{6}Z$/);
    expect(await readFile(backup)).toEqual(await readFile(bin.stockRunc!));
    expect(await standInCalls(root)).toEqual(["--version", "is-active --quiet containerd", "restart containerd", "is-active --quiet docker"]);

    const back = await cli(["install", "--rollback", "--component", "runc", "--root", root, "--path", "/usr/bin/runc", "--restart"]);
    expect(back.code, back.stderr).toBe(0);
    expect(await snapshot(root)).toEqual(before);
  });

  it("refuses a binary that fails verify and changes nothing (no file, no restart)", async () => {
    const root = await nodeWithStockRunc("node-refuse");
    await putStandInSystemctl(root, ["kubelet"]);
    const before = await snapshot(root);
    const res = await cli(["install", bin.stockKubelet!, "--component", "kubelet", "--root", root, "--path", "/usr/bin/runc", "--restart"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/refusing to install .*kmem\.go is compiled in/);
    expect(await snapshot(root)).toEqual(before);
    expect(await standInCalls(root)).toEqual([]);
  });

  it("--dry-run says what it would do and changes nothing", async () => {
    const root = await nodeWithStockRunc("node-dry");
    const before = await snapshot(root);
    const res = await cli(["install", bin.runc!, "--component", "runc", "--root", root, "--dry-run"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^would install \/usr\/local\/sbin\/runc, which comes first on PATH: \/usr\/bin\/runc stays as it is$/m);
    expect(existsSync(path.join(root, "usr/local/sbin"))).toBe(false);
    expect(await snapshot(root)).toEqual(before);
  });

  it("installs kubelet at the path given, and says what to restart when not restarting", async () => {
    const root = path.join(work, "node-kubelet");
    await createNodeTree(root, { release: "3.10.0-957.el7.x86_64", cmdline: "ro", cgroup: "v1", binaries: {} });
    await mkdir(path.join(root, "usr/local/bin"), { recursive: true });
    await copyFile(bin.stockKubelet!, path.join(root, "usr/local/bin/kubelet"));
    const res = await cli(["install", bin.kubelet!, "--component", "kubelet", "--root", root, "--path", "/usr/local/bin/kubelet"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("systemctl restart kubelet");
    expect(await readFile(path.join(root, "usr/local/bin/kubelet"))).toEqual(await readFile(bin.kubelet!));
  });

  it.each([
    [["--component", "kubelet"], /is a runc binary, not kubelet: check --component/, "runc"],
    [["--component", "runc"], /no runc under .* pass --path/, "empty"],
    [["--component", "containerd"], /argument 'containerd' is invalid/, "runc"],
  ])("usage errors %j exit 2 and change nothing", async (flags, message, tree) => {
    const root = path.join(work, `node-usage-${Math.random().toString(36).slice(2)}`);
    await createNodeTree(root, { release: "3.10.0-957.el7.x86_64", cmdline: "ro", cgroup: "v1", binaries: tree === "runc" ? { runc: bin.stockRunc! } : {} });
    await mkdir(path.join(root, "usr/bin"), { recursive: true });
    const before = await snapshot(root);
    const res = await cli(["install", bin.runc!, "--root", root, ...flags]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(await snapshot(root)).toEqual(before);
  });

  it("--rollback without a backup says so", async () => {
    const root = await nodeWithStockRunc("node-nobackup");
    const res = await cli(["install", "--rollback", "--component", "runc", "--root", root]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/no backup of \/usr\/bin\/runc to roll back to/);
  });
});
