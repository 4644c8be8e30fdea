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
  /** The command that holds the package at its version. */
  hold: string;
}

/** dpkg: the package whose /var/lib/dpkg/info/<pkg>[:arch].list names the file. */
async function dpkgOwner(root: string, nodePath: string): Promise<PackageOwner | undefined> {
  const info = path.join(root, "var/lib/dpkg/info");
  for (const entry of (await readdir(info).catch(() => [])).filter((n) => n.endsWith(".list")).sort()) {
    const lines = (await readFile(path.join(info, entry), "utf8").catch(() => "")).split("\n");
    if (lines.includes(nodePath)) {
      const name = entry.replace(/\.list$/, "").replace(/:[\w-]+$/, "");
      return { manager: "dpkg", name, hold: `apt-mark hold ${name}` };
    }
  }
  return undefined;
}

/** rpm: asked of the rpm database under `root` with the rpm found on PATH (none: not known). */
async function rpmOwner(root: string, nodePath: string): Promise<PackageOwner | undefined | "no-rpm"> {
  if (!["var/lib/rpm", "usr/lib/sysimage/rpm"].some((d) => existsSync(path.join(root, d)))) return undefined;
  const out = await run("rpm", ["--root", root, "-qf", nodePath, "--qf", "%{NAME}\\n"], { timeout: 30_000 }).then(
    (r) => r.stdout.trim().split("\n")[0],
    (err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? "no-rpm" : undefined),
  );
  if (out === "no-rpm") return "no-rpm";
  return out ? { manager: "rpm", name: out, hold: `yum install -y yum-plugin-versionlock && yum versionlock add ${out}` } : undefined;
}

/**
 * Who owns `nodePath` (a path as the node sees it) on the node under `root`.
 * `unknown` says why it could not be told (an rpm database but no rpm to read it).
 */
export async function packageOwner(root: string, nodePath: string): Promise<{ owner?: PackageOwner; unknown?: string }> {
  const rpm = await rpmOwner(root, nodePath);
  if (rpm && rpm !== "no-rpm") return { owner: rpm };
  const dpkg = await dpkgOwner(root, nodePath);
  if (dpkg) return { owner: dpkg };
  return rpm === "no-rpm" ? { unknown: `the node has an rpm database but rpm is not installed here: cannot tell whether a package owns ${nodePath} (rpm -qf ${nodePath} on the node tells)` } : {};
}
