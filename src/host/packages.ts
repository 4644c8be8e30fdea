import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The package that owns a file on the node, and how to keep its manager from restoring the file. */
export interface PackageOwner {
  manager: "rpm" | "dpkg";
  name: string;
  /** The package's upstream version (no epoch, release or Debian revision): kubelet's package carries kubelet's. */
  version: string | undefined;
  /** The command that holds the package at its version. */
  hold: string;
}

/** The Version of an installed package in dpkg's status file, as upstream numbers it ("1:1.18.6-00" -> "1.18.6"). */
async function dpkgVersion(root: string, name: string): Promise<string | undefined> {
  const status = await readFile(path.join(root, "var/lib/dpkg/status"), "utf8").catch(() => "");
  const stanza = status.split(/\n\n+/).find((s) => s.split("\n").includes(`Package: ${name}`));
  return stanza?.match(/^Version: (?:\d+:)?(\S+?)(?:-[^-\s]+)?$/m)?.[1];
}

/** dpkg: the package whose /var/lib/dpkg/info/<pkg>[:arch].list names the file. */
async function dpkgOwner(root: string, nodePath: string): Promise<PackageOwner | undefined> {
  const info = path.join(root, "var/lib/dpkg/info");
  for (const entry of (await readdir(info).catch(() => [])).filter((n) => n.endsWith(".list")).sort()) {
    const lines = (await readFile(path.join(info, entry), "utf8").catch(() => "")).split("\n");
    if (lines.includes(nodePath)) {
      const name = entry.replace(/\.list$/, "").replace(/:[\w-]+$/, "");
      return { manager: "dpkg", name, version: await dpkgVersion(root, name), hold: `apt-mark hold ${name}` };
    }
  }
  return undefined;
}

/** Where the node's rpm keeps its database, and the file that tells its format (el7: Berkeley DB; el9: sqlite). */
const RPMDB_DIRS = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"];
const RPMDB_FORMATS: ReadonlyArray<[file: string, format: string]> = [["rpmdb.sqlite", "sqlite"], ["Packages.db", "ndb"], ["Packages", "Berkeley DB"]];

function rpmDatabase(root: string): { dir: string; format: string } | undefined {
  for (const dir of RPMDB_DIRS) {
    const found = RPMDB_FORMATS.find(([file]) => existsSync(path.join(root, dir, file)));
    if (found) return { dir, format: found[1] };
  }
  return undefined;
}

/**
 * rpm: asked of the node's rpm database with the rpm found here. Its own
 * error lines count, not its verdict: rpm prints "not owned by any package"
 * also when it could not open the database at all.
 */
async function rpmOwner(root: string, nodePath: string): Promise<PackageOwner | { unknown: string } | undefined> {
  const db = rpmDatabase(root);
  if (!db) return undefined;
  const cannotTell = (why: string) => ({ unknown: `${why}: cannot tell whether a package owns ${nodePath} (rpm -qf ${nodePath} on the node tells)` });
  // --dbpath: the node's database, never this rpm's default (Debian's keeps its own in ~/.rpmdb).
  const r = await run("rpm", ["--root", root, "--dbpath", db.dir, "-qf", nodePath, "--qf", "%{NAME} %{VERSION}\\n"], { timeout: 30_000 }).then(
    (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
    (err: NodeJS.ErrnoException & { stdout?: string; stderr?: string }) => ({ code: err.code === "ENOENT" ? -1 : 1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" }),
  );
  if (r.code === -1) return cannotTell(`the node has an rpm database but rpm is not installed here`);
  const error = r.stderr.split("\n").find((l) => l.startsWith("error:"));
  // Its errors name files under --root: shown as paths on the node.
  const said = error?.replace(/^error:\s*/, "").split(path.join(root, "/")).join("/");
  if (said) return cannotTell(`rpm here cannot read the node's ${db.format} rpm database in ${db.dir} (${said})`);
  const [name, version] = r.code === 0 ? (r.stdout.trim().split("\n")[0] ?? "").split(" ") : [];
  if (name) return { manager: "rpm", name, version, hold: `yum install -y yum-plugin-versionlock && yum versionlock add ${name}` };
  return r.stdout.includes("is not owned by any package") ? undefined : cannotTell(`rpm -qf failed: ${r.stderr.trim().split("\n")[0] || "no answer"}`);
}

/**
 * Who owns `nodePath` (a path as the node sees it) on the node under `root`.
 * `unknown` says why it could not be told (an rpm database but no rpm to read it).
 */
export async function packageOwner(root: string, nodePath: string): Promise<{ owner?: PackageOwner; unknown?: string }> {
  const rpm = await rpmOwner(root, nodePath);
  if (rpm && "manager" in rpm) return { owner: rpm };
  const dpkg = await dpkgOwner(root, nodePath);
  if (dpkg) return { owner: dpkg };
  return rpm ?? {};
}
