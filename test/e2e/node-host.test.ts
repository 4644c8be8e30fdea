import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stockRunc } from "../fixtures/bare-build.js";
import { inImage as inImageOf, nodeImageAndRunc } from "../fixtures/node-image-run.js";
import { createNodeTree } from "../fixtures/node-trees.js";
import { buildRpm, installRpm, toEl7RpmDatabase } from "../fixtures/rpm-packages.js";
import { putStandInSystemctl, standInCalls } from "../fixtures/standin-systemctl.js";
import { cli, removeDir, run, tempDir } from "../helpers.js";

// The node image acting on the host it is mounted on: service restarts that reach
// the host's systemd, and the packages of an el7 node's rpm database.
let work: string;
let image: string;
let runc: string;
let stock: string;
let containerdRpm: string;

const inImage = (tree: string, args: string[], mounts: string[] = []) => inImageOf(image, tree, args, mounts);
const installArgs = (...args: string[]) => ["install", "/dist/runc", "--component", "runc", "--root", "/host", ...args];
const distMount = () => ["-v", `${runc}:/dist/runc:ro`];

beforeAll(async () => {
  work = await tempDir("node-host");
  let runcRepo: string;
  ({ image, runc, runcRepo } = await nodeImageAndRunc(work));
  stock = await stockRunc(work, runcRepo, runc);
  // The package CentOS 7 nodes get runc from, shipping a stock (kmem-enabling) runc.
  containerdRpm = await buildRpm(path.join(work, "rpm"), { name: "containerd.io", version: "1.2.13", release: "3.2.el7", files: { "/usr/bin/runc": stock } });
});

afterAll(() => removeDir(work));

const el7 = { release: "3.10.0-957.21.3.el7.x86_64", cmdline: "BOOT_IMAGE=/vmlinuz-3.10.0-957.21.3.el7.x86_64 ro", cgroup: "v1" as const, countedMemoryCgroups: 61000, pods: 2, kmemActive: true };

describe("service restarts reach the host's systemd", () => {
  /** An el7 node whose runc is at /usr/bin/runc, and whose systemctl (a stand-in) reports containerd and kubelet running. */
  async function node(name: string, systemctl = true): Promise<string> {
    const root = path.join(work, name);
    await createNodeTree(root, { ...el7, binaries: { runc: stock } });
    if (systemctl) await putStandInSystemctl(root, ["containerd", "kubelet"]);
    return root;
  }
  const ROUND = ["--version", "is-active --quiet containerd", "restart containerd", "is-active --quiet docker"];

  it("install --restart from the image runs the host's own systemctl through chroot /host; so does --rollback", async () => {
    const root = await node("restart-image");
    const res = await inImage(root, installArgs("--restart", "--json"), distMount());
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ mode: "shadow", restarted: ["containerd"], restartedVia: "chroot /host", todo: [], warnings: [] });
    // The stand-in inside the tree was called (its log lands in the tree only when run chrooted there).
    expect(await standInCalls(root)).toEqual(ROUND);

    const human = await inImage(root, ["install", "--rollback", "--component", "runc", "--root", "/host", "--restart"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain("remove /usr/local/sbin/runc, uncovering /usr/bin/runc\nrestarted through chroot /host: containerd\n");
    expect(await standInCalls(root)).toEqual([...ROUND, ...ROUND]);
    expect(existsSync(path.join(root, "usr/local/sbin/runc"))).toBe(false);
  });

  it("the CLI run directly against the tree does the same, through chroot of the tree", async () => {
    const [a, b] = [await node("restart-a"), await node("restart-b")];
    const fromImage = JSON.parse((await inImage(a, installArgs("--restart", "--json"), distMount())).stdout);
    const direct = await cli(["install", runc, "--component", "runc", "--root", b, "--restart", "--json"]);
    expect(direct.code, direct.stderr).toBe(0);
    expect(JSON.parse(direct.stdout)).toEqual({ ...fromImage, restartedVia: `chroot ${b}` });
    expect(await standInCalls(b)).toEqual(await standInCalls(a));
  });

  it("a host with no systemctl to reach: nothing restarted, the commands to run, and why", async () => {
    const root = await node("restart-none", false);
    const res = await inImage(root, installArgs("--restart", "--json"), distMount());
    expect(res.code, res.stderr).toBe(0);
    const result = JSON.parse(res.stdout);
    expect(result).toMatchObject({ restarted: [], restartedVia: null, todo: ["systemctl restart containerd", "systemctl restart docker"] });
    expect(result.warnings).toEqual([
      expect.stringMatching(/^cannot reach the node's systemd \(nsenter into PID 1: .+; chroot \/host: no systemctl under \/host \(\/usr\/bin\/systemctl, \/bin\/systemctl\)\): restart the services yourself$/),
    ]);
  });

  it("without --restart, an install under /host only says what to restart", async () => {
    const root = await node("restart-default");
    const res = await inImage(root, installArgs("--json"), distMount());
    expect(JSON.parse(res.stdout)).toMatchObject({ restarted: [], restartedVia: null, todo: ["systemctl restart containerd   # if it runs", "systemctl restart docker   # if it runs"] });
    expect(await standInCalls(root)).toEqual([]);
  });
});

describe("an el7 node whose runc belongs to the rpm package containerd.io", () => {
  /** A leaking CentOS 7 node with containerd.io installed into its Berkeley DB rpm database. */
  async function rpmNode(name: string, extra: Record<string, string> = {}): Promise<string> {
    const root = path.join(work, name);
    await createNodeTree(root, { ...el7, binaries: {} });
    await installRpm(root, containerdRpm);
    await toEl7RpmDatabase(root);
    for (const [at, text] of Object.entries(extra)) {
      await mkdir(path.dirname(path.join(root, at)), { recursive: true });
      await writeFile(path.join(root, at), text);
    }
    return root;
  }
  const sha256 = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");
  const rpmVerify = (root: string) => run("rpm", ["--root", root, "--dbpath", "/var/lib/rpm", "-V", "containerd.io"]).then(() => 0, (e: { code: number }) => e.code);
  /** doctor's finding on the package's runc. */
  const runcFinding = (report: { findings: Array<{ topic: string; summary: string }> }) => report.findings.find((f) => f.topic === "runc" && f.summary.startsWith("/usr/bin/runc "))!;

  it("the tree's database is el7's: Berkeley DB hash files, no sqlite", async () => {
    const root = await rpmNode("rpm-format");
    expect((await readdir(path.join(root, "var/lib/rpm"))).sort()).toEqual(["Basenames", "Name", "Packages"]);
    // A Berkeley DB hash file: magic 0x061561 at byte 12.
    expect((await readFile(path.join(root, "var/lib/rpm/Packages"))).readUInt32LE(12)).toBe(0x061561);
  });

  it("doctor from the image (host mounted read-only) names the owner, as the CLI does", async () => {
    const root = await rpmNode("rpm-doctor");
    const fromImage = await inImageOf(image, root, ["doctor", "--root", "/host", "--json", "--state", "/tmp/state.json"], [], "ro");
    const direct = await cli(["doctor", "--root", root, "--json", "--state", path.join(work, "rpm-doctor-state.json")]);
    expect(fromImage.code).toBe(1);
    const report = JSON.parse(fromImage.stdout);
    expect(report).toEqual({ ...JSON.parse(direct.stdout), root: "/host" });
    expect(runcFinding(report).summary).toMatch(/^\/usr\/bin\/runc enables kmem accounting: .* \(owned by the rpm package containerd\.io, left untouched: install shadows it with \/usr\/local\/sbin\/runc\)$/);
  });

  it("a runc named in containerd's config is replaced in place: doctor and install advise yum versionlock", async () => {
    const toml = `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  BinaryName = "/usr/bin/runc"\n`;
    const root = await rpmNode("rpm-configured", { "etc/containerd/config.toml": toml });
    const hold = "yum install -y yum-plugin-versionlock && yum versionlock add containerd.io";
    const report = JSON.parse((await inImage(root, ["doctor", "--root", "/host", "--json", "--state", "/tmp/state.json"])).stdout);
    expect(runcFinding(report).summary).toContain(`(owned by the rpm package containerd.io: hold it after installing, ${hold})`);
    const dry = await inImage(root, installArgs("--dry-run", "--json"), distMount());
    expect(JSON.parse(dry.stdout)).toMatchObject({ mode: "replace", target: "/usr/bin/runc", package: { manager: "rpm", name: "containerd.io", hold } });
    expect(JSON.parse(dry.stdout).todo[0]).toBe(`${hold}   # keep yum from restoring /usr/bin/runc`);
  });

  it("install from the image shadows it at /usr/local/sbin/runc, the package's file stays byte-identical (rpm -V), rollback removes the shadow; the CLI does the same", async () => {
    const [a, b] = [await rpmNode("rpm-install-image"), await rpmNode("rpm-install-direct")];
    const before = await sha256(path.join(a, "usr/bin/runc"));
    expect(before).toBe(await sha256(stock));
    const res = await inImage(a, installArgs("--no-restart", "--json"), distMount());
    expect(res.code, res.stderr).toBe(0);
    const result = JSON.parse(res.stdout);
    expect(result).toMatchObject({
      mode: "shadow", target: "/usr/local/sbin/runc", shadows: "/usr/bin/runc",
      package: { manager: "rpm", name: "containerd.io", hold: "yum install -y yum-plugin-versionlock && yum versionlock add containerd.io" },
      warnings: [],
    });
    expect(await sha256(path.join(a, "usr/local/sbin/runc"))).toBe(await sha256(runc));
    expect(await sha256(path.join(a, "usr/bin/runc"))).toBe(before);
    expect(await rpmVerify(a)).toBe(0);

    const direct = await cli(["install", runc, "--component", "runc", "--root", b, "--no-restart", "--json"]);
    expect(JSON.parse(direct.stdout)).toEqual(result);

    const back = await inImage(a, ["install", "--rollback", "--component", "runc", "--root", "/host", "--no-restart", "--json"]);
    expect(JSON.parse(back.stdout)).toMatchObject({ mode: "shadow", target: "/usr/local/sbin/runc", shadows: "/usr/bin/runc" });
    expect(await readdir(path.join(a, "usr/local/sbin"))).toEqual([]);
    expect(await sha256(path.join(a, "usr/bin/runc"))).toBe(before);
    expect(await rpmVerify(a)).toBe(0);
  });

  it("an rpm database the image cannot read is said to be so, never taken for 'not owned'", async () => {
    const root = await rpmNode("rpm-unreadable");
    // Not a Berkeley DB file (as a database of another format, or a damaged one, looks to bdb_ro).
    await writeFile(path.join(root, "var/lib/rpm/Packages"), Buffer.alloc(8192, "x"));
    const said = "rpm here cannot read the node's Berkeley DB rpm database in /var/lib/rpm (/var/lib/rpm/Packages: not a berkeley db hash/btree database): cannot tell whether a package owns /usr/bin/runc (rpm -qf /usr/bin/runc on the node tells)";
    const report = JSON.parse((await inImage(root, ["doctor", "--root", "/host", "--json", "--state", "/tmp/state.json"])).stdout);
    expect(runcFinding(report).summary).toContain(`(${said})`);
    const res = await inImage(root, installArgs("--dry-run", "--json"), distMount());
    expect(JSON.parse(res.stdout)).toMatchObject({ package: null, warnings: [said] });
  });
});
