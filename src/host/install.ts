import { existsSync } from "node:fs";
import { chmod, chown, copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { replaceAtomically } from "../fs/atomic.js";
import { sweepTempsBeside } from "../fs/sweep.js";
import path from "node:path";
import { UsageError, UserError, osFailure } from "../errors.js";
import type { Component } from "../recipes/schema.js";
import { verifyBinary } from "../verify/verify.js";
import { checkNodeRoot, findInstalled, findRuncs, onNode } from "./locate.js";
import { packageOwner, type PackageOwner } from "./packages.js";
import { configuredRuncs } from "./runtime-config.js";
import { readLabel, writeLabel } from "./selinux.js";
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
  /** replace: the file the node runs was replaced (backup beside it); shadow: a new runc in /usr/local/sbin, first on PATH. */
  mode: "replace" | "shadow";
  /** With shadow: the package's runc that is shadowed and left untouched. */
  shadows: string | null;
  /** The engine configuration that names the runc replaced, when one does. */
  configuredBy: string | null;
  /** The package that owns the file replaced (or shadowed). */
  package: PackageOwner | null;
  /** The SELinux label given to the new file (the replaced or shadowed file's). */
  selinuxLabel: string | null;
  backup: string | null;
  dryRun: boolean;
  restarted: string[];
  /** How the node's systemd was reached: "systemctl", "nsenter into PID 1's namespaces", "chroot /host"; null when not asked or not reached. */
  restartedVia: string | null;
  /** Commands the operator still has to run. */
  todo: string[];
  /** How to check the node afterwards. */
  checks: string[];
  warnings: string[];
}

const BACKUP_MARK = ".nokmem-backup-";

/** runc's shadow: /usr/local/sbin comes first on systemd's PATH, which dockerd and containerd search. */
export const RUNC_SHADOW = "/usr/local/sbin/runc";
/** Beside the shadow: the file it shadows, so rollback knows it made it. */
const shadowMarker = (shadow: string) => path.join(path.dirname(shadow), `.${path.basename(shadow)}.nokmem-shadow`);

interface Target {
  target: string;
  mode: "replace" | "shadow";
  /** The file whose mode, owner and label the new one takes (the target itself when replacing). */
  like: string;
  configuredBy: string | null;
  warnings: string[];
}

async function locateTarget(opts: InstallOptions, forRollback = false): Promise<Target> {
  if (opts.path) {
    const target = path.join(opts.root, opts.path);
    if (path.relative(opts.root, target).startsWith("..")) throw new UsageError(`--path ${opts.path}: outside --root ${opts.root}; give the path as the node sees it, such as /usr/bin/runc`);
    if (!(await stat(target).catch(() => undefined))?.isFile()) throw new UsageError(`--path ${opts.path}: no such file under ${opts.root}`);
    return { target, mode: "replace", like: target, configuredBy: null, warnings: [] };
  }
  if (opts.component === "runc") {
    for (const c of await configuredRuncs(opts.root)) {
      const target = path.isAbsolute(c.path) ? path.join(opts.root, c.path) : (await findInstalled(opts.root, c.path))[0];
      if (!target || !(await stat(target).catch(() => undefined))?.isFile()) {
        throw new UsageError(`${c.source} names ${c.path} as runc, but there is no such file under ${opts.root}: pass --path with the runc the node runs`);
      }
      return { target, mode: "replace", like: target, configuredBy: `${c.source} = ${c.path}`, warnings: [] };
    }
  }
  const found = opts.component === "runc" ? await findRuncs(opts.root) : await findInstalled(opts.root, opts.component);
  const onPath = found.filter((f) => path.basename(f) === opts.component);
  if (!onPath.length) {
    const others = found.length ? ` (found ${found.map((f) => onNode(opts.root, f)).join(", ")}, which no engine configuration here names)` : "";
    throw new UsageError(`no ${opts.component} under ${opts.root} on the usual paths (/usr/local/sbin, /usr/local/bin, /usr/bin, …)${others}: pass --path with the binary the node runs`);
  }
  const elsewhere = (f: string) =>
    path.basename(f) === opts.component
      ? `another ${opts.component} is at ${onNode(opts.root, f)}: not replaced (the node runs ${onNode(opts.root, onPath[0]!)} first; --path replaces another)`
      : `${onNode(opts.root, f)} (RHEL's docker runc) is not replaced: if the node's docker runs it, install again with --path ${onNode(opts.root, f)}`;
  const shadow = path.join(opts.root, RUNC_SHADOW);
  if (opts.component === "runc" && onPath[0] !== shadow && !forRollback) {
    // Every runc on PATH is shadowed; only the docker-runc names are left as they were.
    return { target: shadow, mode: "shadow", like: onPath[0]!, configuredBy: null, warnings: found.filter((f) => path.basename(f) !== "runc").map(elsewhere) };
  }
  const warnings = found.filter((f) => f !== onPath[0]).map(elsewhere);
  return { target: onPath[0]!, mode: "replace", like: onPath[0]!, configuredBy: null, warnings };
}

/** Places `src` at `dest` in one rename, with the mode, owner and SELinux label `like` has. */
async function swapIn(src: string, dest: string, like: { mode: number; uid: number; gid: number }, label: string | undefined): Promise<void> {
  // What an interrupted install left beside the binary goes first.
  await sweepTempsBeside(dest, "nokmem-new");
  await replaceAtomically(
    dest,
    async (tmp) => {
      await copyFile(src, tmp);
      await chmod(tmp, like.mode & 0o7777);
      await chown(tmp, like.uid, like.gid);
      if (label) {
        const failed = await writeLabel(tmp, label);
        if (failed) throw new UserError(`cannot give ${dest} the SELinux label ${label} of the file it replaces: ${failed}`);
      }
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

type Restarts = Pick<InstallResult, "restarted" | "restartedVia" | "todo" | "warnings">;

/** Restarts through the node's own systemd when asked (default: only on the running system), else says what to run. */
async function restartOrAdvise(opts: InstallOptions, warnings: string[]): Promise<Restarts> {
  const restart = opts.restart ?? path.resolve(opts.root) === "/";
  if (opts.dryRun || !restart) return { restarted: [], restartedVia: null, todo: SERVICES[opts.component].map((s) => `systemctl restart ${s}   # if it runs`), warnings };
  const outcome = await restartServices(opts.component, opts.root);
  const unreachable = outcome.unreachable.length ? [`cannot reach the node's systemd (${outcome.unreachable.join("; ")}): restart the services yourself`] : [];
  return { restarted: outcome.restarted, restartedVia: outcome.via, todo: outcome.manual, warnings: [...warnings, ...unreachable] };
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
  const { target, mode, like, configuredBy, warnings } = await locateTarget(opts);
  if (!verdict.component) warnings.push(`cannot tell from ${file} that it is ${opts.component}; installing as --component says`);
  const current = await stat(like);
  const { owner, unknown } = await packageOwner(opts.root, onNode(opts.root, like));
  if (unknown) warnings.push(unknown);
  const todo: string[] = [];
  if (owner && mode === "replace") {
    warnings.push(`${onNode(opts.root, target)} belongs to the ${owner.manager} package ${owner.name}: its next update puts a kmem-enabling binary back`);
    todo.push(`${owner.hold}   # keep ${owner.manager === "rpm" ? "yum" : "apt"} from restoring ${onNode(opts.root, target)}`);
  }
  const { label, missing } = await readLabel(like);
  if (missing && existsSync(path.join(opts.root, "etc/selinux/config"))) {
    warnings.push(`getfattr (attr package) is not installed here: the SELinux label of ${onNode(opts.root, like)} is not carried over; run restorecon -v ${onNode(opts.root, target)} on the node`);
  }
  let backup: string | null = null;
  if (mode === "replace") {
    backup = `${target}${BACKUP_MARK}${stamp(new Date())}`;
    for (let n = 1; await stat(backup).catch(() => undefined); n++) backup = `${target}${BACKUP_MARK}${stamp(new Date())}-${n}`;
  }

  if (!opts.dryRun) {
    try {
      if (backup) {
        await copyFile(target, backup);
        await chmod(backup, current.mode & 0o7777);
        await chown(backup, current.uid, current.gid);
      } else {
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(shadowMarker(target), `${onNode(opts.root, like)}\n`);
      }
      await swapIn(file, target, current, label);
    } catch (err) {
      // The binary is replaced in one rename or not at all: undo the backup (or the shadow's marker), so a failed install changes nothing.
      await rm(backup ?? shadowMarker(target), { force: true }).catch(() => undefined);
      throw writeFailure(onNode(opts.root, path.dirname(target)), err);
    }
  }
  const services = await restartOrAdvise(opts, warnings);
  return {
    target: onNode(opts.root, target),
    mode,
    shadows: mode === "shadow" ? onNode(opts.root, like) : null,
    configuredBy,
    package: owner ?? null,
    selinuxLabel: label ?? null,
    backup: backup && onNode(opts.root, backup),
    dryRun: opts.dryRun,
    restarted: services.restarted,
    restartedVia: services.restartedVia,
    todo: [...todo, ...services.todo],
    checks: afterChecks(opts.component),
    warnings: services.warnings,
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

/**
 * Puts the newest backup back in place (one rename: its mode and owner are the
 * original's); a runc shadow without backups is removed, uncovering the package's runc.
 */
export async function rollbackBinary(opts: InstallOptions): Promise<InstallResult> {
  await checkNodeRoot(opts.root);
  const { target, configuredBy, warnings } = await locateTarget(opts, true);
  const dir = path.dirname(target);
  const prefix = `${path.basename(target)}${BACKUP_MARK}`;
  const backups = (await readdir(dir)).filter((n) => n.startsWith(prefix)).sort();
  const newest = backups.at(-1);
  const marker = shadowMarker(target);
  const base = { target: onNode(opts.root, target), configuredBy, package: null, selinuxLabel: null, dryRun: opts.dryRun, checks: [] };
  if (!newest && existsSync(marker)) {
    const shadowed = (await readFile(marker, "utf8")).trim();
    if (!opts.dryRun) {
      await rm(target, { force: true });
      await rm(marker, { force: true });
    }
    return { ...base, mode: "shadow", shadows: shadowed, backup: null, ...(await restartOrAdvise(opts, warnings)) };
  }
  if (!newest) throw new UserError(`no backup of ${onNode(opts.root, target)} to roll back to (looked for ${prefix}* in ${onNode(opts.root, dir)})`);
  if (!opts.dryRun) await rename(path.join(dir, newest), target);
  return { ...base, mode: "replace", shadows: null, backup: onNode(opts.root, path.join(dir, newest)), ...(await restartOrAdvise(opts, warnings)) };
}
