import { createHash } from "node:crypto";
import { chmod, chown, copyFile, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeTree } from "../fixtures/node-trees.js";
import { inImage as inImageOf, nodeImageAndRunc } from "../fixtures/node-image-run.js";
import { cli, removeDir, run, tempDir } from "../helpers.js";
import { gaugeValue, parseExposition } from "../prometheus.js";

// The node commands from the node image, with nothing on the "node" but the engine:
// the results must equal the CLI's own, run directly against the same recorded tree.
let work: string;
let image: string;
let runc: string;

const inImage = (tree: string, args: string[], mounts: string[] = []) => inImageOf(image, tree, args, mounts);

beforeAll(async () => {
  work = await tempDir("node-image");
  ({ image, runc } = await nodeImageAndRunc(work));
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

describe("installs that survive package management", () => {
  /** Every file under the tree's usr/, etc/ and var/ with its mode, owner and sha256: what install may change. */
  async function snapshot(root: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const top of ["usr", "etc", "var"]) {
      for (const e of await readdir(path.join(root, top), { withFileTypes: true, recursive: true }).catch(() => [])) {
        if (!e.isFile()) continue;
        const file = path.join(e.parentPath, e.name);
        const st = await stat(file);
        out[path.relative(root, file)] = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${createHash("sha256").update(await readFile(file)).digest("hex")}`;
      }
    }
    return out;
  }

  /** An el7 node whose runc belongs to a package (dpkg's record of it: the rpm database needs rpm to read). */
  async function packagedNode(name: string, runcAt = "/usr/bin/runc", extra: Record<string, string> = {}): Promise<string> {
    const root = path.join(work, name);
    await createNodeTree(root, { release: "3.10.0-957.el7.x86_64", cmdline: "ro", cgroup: "v1", binaries: {} });
    const file = path.join(root, runcAt);
    await mkdir(path.dirname(file), { recursive: true });
    await copyFile("/bin/true", file); // the package's runc: install never runs or judges it
    await chown(file, 4242, 4243);
    await chmod(file, 0o750);
    await mkdir(path.join(root, "var/lib/dpkg/info"), { recursive: true });
    await writeFile(path.join(root, "var/lib/dpkg/info/containerd.io.list"), `/.\n/usr\n${path.dirname(runcAt)}\n${runcAt}\n/usr/bin/containerd\n`);
    for (const [at, text] of Object.entries(extra)) {
      await mkdir(path.dirname(path.join(root, at)), { recursive: true });
      await writeFile(path.join(root, at), text);
    }
    return root;
  }

  const install = async (root: string, ...args: string[]) => {
    const res = await cli(["install", ...args, "--component", "runc", "--root", root, "--no-restart", "--json"]);
    return { code: res.code, stderr: res.stderr, result: res.stdout.trim() ? JSON.parse(res.stdout) : undefined };
  };

  it("shadows a package's /usr/bin/runc with /usr/local/sbin/runc, leaves the package's file byte-identical, and rollback removes the shadow", async () => {
    const root = await packagedNode("pkg-shadow");
    const before = await snapshot(root);
    const { code, stderr, result } = await install(root, runc);
    expect(code, stderr).toBe(0);
    expect(result).toMatchObject({
      mode: "shadow", target: "/usr/local/sbin/runc", shadows: "/usr/bin/runc", backup: null, configuredBy: null,
      package: { manager: "dpkg", name: "containerd.io", hold: "apt-mark hold containerd.io" },
    });
    const shadow = path.join(root, "usr/local/sbin/runc");
    expect(await readFile(shadow)).toEqual(await readFile(runc));
    const st = await stat(shadow);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o750, 4242, 4243]);
    const after = await snapshot(root);
    expect(after["usr/bin/runc"]).toBe(before["usr/bin/runc"]);
    // doctor now finds the shadow first, and judges it nokmem.
    const doctor = JSON.parse((await cli(["doctor", "--root", root, "--json", "--state", path.join(work, "pkg-shadow-state.json")])).stdout);
    expect(doctor.binaries[0]).toEqual({ component: "runc", path: "/usr/local/sbin/runc", kmem: "off" });

    const back = await install(root, "--rollback");
    expect(back.code, back.stderr).toBe(0);
    expect(back.result).toMatchObject({ mode: "shadow", target: "/usr/local/sbin/runc", shadows: "/usr/bin/runc" });
    expect(await snapshot(root)).toEqual(before);
    expect(await readdir(path.join(root, "usr/local/sbin"))).toEqual([]);
  });

  it("a runc named by containerd's config is replaced where it is, with a backup and the package hold to run", async () => {
    const toml = `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  BinaryName = "/usr/bin/docker-runc"\n`;
    const root = await packagedNode("pkg-configured", "/usr/bin/docker-runc", { "etc/containerd/config.toml": toml });
    const original = await readFile(path.join(root, "usr/bin/docker-runc"));
    const { code, stderr, result } = await install(root, runc);
    expect(code, stderr).toBe(0);
    expect(result).toMatchObject({ mode: "replace", target: "/usr/bin/docker-runc", shadows: null, package: { name: "containerd.io" } });
    expect(result.configuredBy).toMatch(/^\/etc\/containerd\/config\.toml \[.*runtimes\.runc\.options\] BinaryName = \/usr\/bin\/docker-runc$/);
    expect(result.todo).toContain("apt-mark hold containerd.io   # keep apt from restoring /usr/bin/docker-runc");
    expect(result.warnings).toContainEqual(expect.stringMatching(/^\/usr\/bin\/docker-runc belongs to the dpkg package containerd\.io: its next update puts a kmem-enabling binary back$/));
    expect(await readFile(path.join(root, "usr/bin/docker-runc"))).toEqual(await readFile(runc));
    expect(await readFile(path.join(root, result.backup))).toEqual(original);
    expect(existsSyncIn(root, "usr/local/sbin/runc")).toBe(false);
    // doctor reports what the engine is configured to run.
    const doctor = JSON.parse((await cli(["doctor", "--root", root, "--json", "--state", path.join(work, "pkg-configured-state.json")])).stdout);
    expect(doctor.findings).toContainEqual(expect.objectContaining({ topic: "runc", status: "info", summary: expect.stringContaining("the node's engine runs /usr/bin/docker-runc as runc") }));
  });

  it("RHEL's docker-runc-current, named in /etc/sysconfig/docker, is found in /usr/libexec/docker and replaced there", async () => {
    const sysconfig = `ADD_RUNTIMES="--add-runtime docker-runc=/usr/libexec/docker/docker-runc-current --default-runtime=docker-runc"\n`;
    const root = await packagedNode("rhel-docker", "/usr/libexec/docker/docker-runc-current", { "etc/sysconfig/docker": sysconfig });
    const dry = await cli(["install", runc, "--component", "runc", "--root", root, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would back up \/usr\/libexec\/docker\/docker-runc-current to \/usr\/libexec\/docker\/docker-runc-current\.nokmem-backup-/);
    expect(dry.stdout).toContain("apt-mark hold containerd.io");
  });

  it("keeps the SELinux label of the runc it shadows (setfattr in the image; SYS_ADMIN to write security.* without --privileged)", async () => {
    const root = await packagedNode("selinux", "/usr/bin/runc", { "etc/selinux/config": "SELINUX=enforcing\nSELINUXTYPE=targeted\n" });
    const label = "system_u:object_r:container_runtime_exec_t:s0";
    const attr = (args: string) => run("docker", ["run", "--rm", "--network", "none", "--cap-add", "SYS_ADMIN", "-v", `${root}:/host`, "--entrypoint", "sh", image, "-c", args]);
    await attr(`setfattr -n security.selinux -v ${label} /host/usr/bin/runc`);
    const res = await run("docker", ["run", "--rm", "--network", "none", "--cap-add", "SYS_ADMIN", "-v", `${root}:/host`, "-v", `${runc}:/dist/runc:ro`, image, "install", "/dist/runc", "--component", "runc", "--root", "/host", "--no-restart", "--json"]);
    expect(JSON.parse(res.stdout)).toMatchObject({ mode: "shadow", selinuxLabel: label, warnings: [] });
    const { stdout } = await attr("getfattr --absolute-names --only-values -n security.selinux /host/usr/local/sbin/runc");
    expect(stdout).toBe(label);
  });

  it("without getfattr (this machine), an install on a SELinux node says the label was not carried over", async () => {
    const root = await packagedNode("selinux-noattr", "/usr/bin/runc", { "etc/selinux/config": "SELINUX=enforcing\n" });
    const hasGetfattr = await run("sh", ["-c", "command -v getfattr"]).then(() => true, () => false);
    const { code, result } = await install(root, runc);
    expect(code).toBe(0);
    if (hasGetfattr) expect(result.warnings).toEqual([]);
    else expect(result.warnings).toContainEqual(expect.stringMatching(/^getfattr \(attr package\) is not installed here: .*restorecon -v \/usr\/local\/sbin\/runc on the node$/));
  });

  it("install from the image equals install by the CLI", async () => {
    const a = await packagedNode("image-install");
    const b = await packagedNode("direct-install");
    const fromImage = await inImage(a, ["install", "/dist/runc", "--component", "runc", "--root", "/host", "--no-restart", "--json"], ["-v", `${runc}:/dist/runc:ro`]);
    expect(fromImage.code).toBe(0);
    const direct = await install(b, runc);
    expect(JSON.parse(fromImage.stdout)).toEqual(direct.result);
    expect(await snapshot(a)).toEqual(await snapshot(b));
  });
});

const existsSyncIn = (root: string, rel: string) => existsSync(path.join(root, rel));
