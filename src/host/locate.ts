import { lstat, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../errors.js";

/** --root must be a directory: the running system's / or a mounted node image. */
export async function checkNodeRoot(root: string): Promise<void> {
  const st = await stat(root).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new UsageError(`--root ${root}: ${st ? "not a directory" : "no such directory"}; expected the node's root file system (/, or a mounted node image)`);
  }
}

/** Where node packages put these binaries, in the order a root shell's PATH searches them. */
export const USUAL_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** Every regular file named `name` on the usual paths under `root`, the one the node runs first. */
export async function findInstalled(root: string, name: string, dirs: readonly string[] = USUAL_DIRS): Promise<string[]> {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    const candidate = path.join(root, dir, name);
    const st = await lstat(candidate).catch(() => undefined);
    // Merged-/usr systems link /sbin to /usr/sbin: one file, listed once.
    const real = st?.isFile() ? await realpath(candidate) : undefined;
    if (real && !seen.has(real)) {
      seen.add(real);
      found.push(candidate);
    }
  }
  return found;
}

/** A path as the node sees it (without the --root prefix), for messages and commands to run there. */
export const onNode = (root: string, p: string) => `/${path.relative(root, p)}`;

/** runc under its own name, and RHEL's docker-shipped names for it (docker-runc, docker-runc-current in /usr/libexec/docker). */
export const RUNC_NAMES = ["runc", "docker-runc", "docker-runc-current"] as const;

/** Every runc on the node: runc on the usual paths first (in PATH order), then docker's. */
export async function findRuncs(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of RUNC_NAMES) found.push(...(await findInstalled(root, name, [...USUAL_DIRS, "/usr/libexec/docker"])));
  return found;
}
