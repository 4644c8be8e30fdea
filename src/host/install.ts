import { chmod, chown, copyFile, readdir, rename, rm, stat } from "node:fs/promises";
import { replaceAtomically } from "../fs/atomic.js";
import { sweepTempsBeside } from "../fs/sweep.js";
import path from "node:path";
import { UsageError, UserError, osFailure } from "../errors.js";
import type { Component } from "../recipes/schema.js";
import { verifyBinary } from "../verify/verify.js";
import { checkNodeRoot, findInstalled, onNode } from "./locate.js";
import { restartServices, SERVICES } from "./services.js";

export interface InstallOptions {
  component: Component;
  root: string;
  /** The binary to replace, as a path on the node; default: found on the usual paths. */
  path?: string;
  dryRun: boolean;
  /** Restart the services using it; undefined: only when installing into the running system (root /). */
  restart: boolean | undefined;
  targetGlibc: string;
}

export interface InstallResult {
  target: string;
  backup: string | null;
  dryRun: boolean;
  restarted: string[];
  /** Commands the operator still has to run. */
  todo: string[];
  /** How to check the node afterwards. */
  checks: string[];
  warnings: string[];
}

const BACKUP_MARK = ".nokmem-backup-";

async function locateTarget(opts: InstallOptions): Promise<{ target: string; warnings: string[] }> {
  if (opts.path) {
    const target = path.join(opts.root, opts.path);
    if (path.relative(opts.root, target).startsWith("..")) throw new UsageError(`--path ${opts.path}: outside --root ${opts.root}; give the path as the node sees it, such as /usr/bin/runc`);
    if (!(await stat(target).catch(() => undefined))?.isFile()) throw new UsageError(`--path ${opts.path}: no such file under ${opts.root}`);
    return { target, warnings: [] };
  }
  const found = await findInstalled(opts.root, opts.component);
  if (!found.length) {
    throw new UsageError(`no ${opts.component} under ${opts.root} on the usual paths (/usr/local/bin, /usr/bin, …): pass --path with the binary the node runs`);
  }
  const warnings = found.slice(1).map((f) => `another ${opts.component} is at ${onNode(opts.root, f)}: not replaced (the node runs ${onNode(opts.root, found[0]!)} first)`);
  return { target: found[0]!, warnings };
}

/** Places `src` at `dest` in one rename, with the mode and owner `like` has. */
async function swapIn(src: string, dest: string, like: { mode: number; uid: number; gid: number }): Promise<void> {
  // What an interrupted install left beside the binary goes first.
  await sweepTempsBeside(dest, "nokmem-new");
  await replaceAtomically(
    dest,
    async (tmp) => {
      await copyFile(src, tmp);
      await chmod(tmp, like.mode & 0o7777);
      await chown(tmp, like.uid, like.gid);
    },
    "nokmem-new",
  );
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");

function afterChecks(component: Component): string[] {
  return [
    "start a new pod, then: cat /sys/fs/cgroup/memory/kubepods/<qos>/pod<uid>/memory.kmem.usage_in_bytes   # expect 0",
    "cat /sys/fs/cgroup/memory/kubepods/memory.kmem.slabinfo   # expect 'Input/output error' once runc and kubelet are both replaced",
    `replace ${component === "runc" ? "kubelet" : "runc"} too if not done yet: each enables kmem accounting on its own`,
    "reboot the node to reclaim the memory cgroups that already leaked (nokmem-build doctor counts them)",
  ];
}

async function restartOrAdvise(opts: InstallOptions): Promise<Pick<InstallResult, "restarted" | "todo">> {
  const restart = opts.restart ?? path.resolve(opts.root) === "/";
  if (opts.dryRun || !restart) return { restarted: [], todo: SERVICES[opts.component].map((s) => `systemctl restart ${s}   # if it runs`) };
  const outcome = await restartServices(opts.component);
  return { restarted: outcome.restarted, todo: outcome.manual };
}

/**
 * Installs a verified nokmem binary over the one the node uses: refuses one
 * that fails verification, backs up the current binary with a timestamp,
 * swaps in one rename (mode and owner kept), restarts what uses it.
 */
export async function installBinary(file: string, opts: InstallOptions): Promise<InstallResult> {
  await checkNodeRoot(opts.root);
  const verdict = await verifyBinary(file, { targetGlibc: opts.targetGlibc, runtime: false });
  if (!verdict.ok) {
    const failed = verdict.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    throw new UserError(`refusing to install ${file}: ${failed.join("; ")}`);
  }
  if (verdict.component && verdict.component !== opts.component) {
    throw new UsageError(`${file} is a ${verdict.component} binary, not ${opts.component}: check --component`);
  }
  const { target, warnings } = await locateTarget(opts);
  if (!verdict.component) warnings.push(`cannot tell from ${file} that it is ${opts.component}; installing as --component says`);
  const current = await stat(target);
  let backup = `${target}${BACKUP_MARK}${stamp(new Date())}`;
  for (let n = 1; await stat(backup).catch(() => undefined); n++) backup = `${target}${BACKUP_MARK}${stamp(new Date())}-${n}`;

  if (!opts.dryRun) {
    try {
      await copyFile(target, backup);
      await chmod(backup, current.mode & 0o7777);
      await chown(backup, current.uid, current.gid);
      await swapIn(file, target, current);
    } catch (err) {
      // The binary is replaced in one rename or not at all: undo the backup, so a failed install changes nothing.
      await rm(backup, { force: true }).catch(() => undefined);
      throw writeFailure(onNode(opts.root, path.dirname(target)), err);
    }
  }
  const services = await restartOrAdvise(opts);
  return {
    target: onNode(opts.root, target),
    backup: onNode(opts.root, backup),
    dryRun: opts.dryRun,
    ...services,
    checks: afterChecks(opts.component),
    warnings,
  };
}

/** A file-system failure in the binary's directory as one line, with the usual causes of each. */
function writeFailure(dir: string, err: unknown): unknown {
  const os = osFailure(err);
  if (!os) return err;
  const { code } = os;
  const hint =
    code === "EPERM" || code === "EACCES"
      ? `is ${dir} immutable (lsattr -d ${dir}; chattr -i) or not writable by this user?`
      : code === "EROFS"
        ? `${dir} is on a read-only file system: remount it read-write`
        : code === "ENOSPC"
          ? `free space in ${dir}`
          : `check ${dir}`;
  return new UserError(`cannot install into ${dir} (${os.text}): ${hint}; nothing was changed`);
}

/** Puts the newest backup back in place (one rename: its mode and owner are the original's). */
export async function rollbackBinary(opts: InstallOptions): Promise<InstallResult> {
  await checkNodeRoot(opts.root);
  const { target, warnings } = await locateTarget(opts);
  const dir = path.dirname(target);
  const prefix = `${path.basename(target)}${BACKUP_MARK}`;
  const backups = (await readdir(dir)).filter((n) => n.startsWith(prefix)).sort();
  const newest = backups.at(-1);
  if (!newest) throw new UserError(`no backup of ${onNode(opts.root, target)} to roll back to (looked for ${prefix}* in ${onNode(opts.root, dir)})`);
  if (!opts.dryRun) await rename(path.join(dir, newest), target);
  const services = await restartOrAdvise(opts);
  return { target: onNode(opts.root, target), backup: onNode(opts.root, path.join(dir, newest)), dryRun: opts.dryRun, ...services, checks: [], warnings };
}
