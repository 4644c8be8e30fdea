import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { open, readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { UsageError, UserError } from "../errors.js";
import { lookupRecipe } from "../recipes/lookup.js";
import { assetName, type Arch } from "../release/names.js";
import { DEFAULT_TARGET_GLIBC } from "../binary/glibc.js";
import type { Component } from "../recipes/schema.js";
import { verifyBinary, type VerifyResult } from "../verify/verify.js";
import { kernelSupport } from "./kernel.js";
import { checkNodeRoot, findInstalled, findRuncs, onNode } from "./locate.js";
import { packageOwner, type PackageOwner } from "./packages.js";
import { configuredRuncs } from "./runtime-config.js";

export interface Finding {
  topic: "kernel" | "cgroups" | "leak" | "kubepods" | Component;
  /** risk: the node leaks or will; ok: fine; info: nothing to do. */
  status: "ok" | "risk" | "info";
  summary: string;
  /** The concrete next step, where there is one. */
  next?: string;
}

export interface DoctorReport {
  root: string;
  kernel: string;
  cgroup: "v1" | "v2" | "unknown";
  memoryCgroups: { counted: number; present: number; leaked: number } | null;
  /** The kernel honours and runs with cgroup.memory=nokmem. */
  kernelNokmem: boolean;
  /** kmem accounting active under kubepods; null without a kubepods memory cgroup (or cgroup v1). */
  kmemActive: boolean | null;
  /** The runc and kubelet found, with verify's kmem verdict (null: not judged). */
  binaries: Array<{ component: Component; path: string; kmem: "on" | "off" | null }>;
  findings: Finding[];
  healthy: boolean;
}

const read = (file: string) => readFile(file, "utf8").then((t) => t.trim(), () => undefined);

/** Directories in the memory hierarchy, the root included. */
async function countDirs(dir: string): Promise<number> {
  let n = 1;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) n += await countDirs(path.join(dir, entry.name));
  }
  return n;
}

/** The kernel's memory cgroup count, from /proc/cgroups (`memory <hierarchy> <num_cgroups> <enabled>`). */
/** The kernel's count of memory cgroups: the third field of the `memory` line, a plain whole number, or why not. */
function countedMemoryCgroups(procCgroups: string | undefined): number | string | undefined {
  const line = procCgroups?.split("\n").find((l) => l.startsWith("memory\t") || l.startsWith("memory "));
  if (!line) return undefined;
  const field = line.split(/\s+/)[2] ?? "";
  return /^\d{1,9}$/.test(field) ? Number(field) : `its memory line has ${field ? `"${field}"` : "nothing"} where the count of cgroups belongs`;
}

function kernelFinding(release: string, cmdline: string): Finding {
  const flag = cmdline.split(/\s+/).includes("cgroup.memory=nokmem");
  const k = kernelSupport(release);
  if (flag && k.kind !== "el7-too-old") return { topic: "kernel", status: "ok", summary: `kernel ${release} runs with cgroup.memory=nokmem: kmem accounting is off for every cgroup` };
  if (k.kind === "el7-too-old") {
    return {
      topic: "kernel",
      status: "risk",
      summary: `kernel ${release} ignores cgroup.memory=nokmem${flag ? " (it is on the command line, to no effect)" : ""}: only el7 kernels from 3.10.0-1062.4.1 honour it`,
      next: "rebuild runc and kubelet without kmem accounting (below); or update the kernel to 3.10.0-1062.4.1.el7 or later and add cgroup.memory=nokmem",
    };
  }
  if (k.kind === "el7-supported") {
    return {
      topic: "kernel",
      status: "risk",
      summary: `kernel ${release} supports cgroup.memory=nokmem, but it is not on the command line`,
      next: `grubby --args=cgroup.memory=nokmem --update-kernel /boot/vmlinuz-${release} && reboot   # then check: grep nokmem /proc/cmdline`,
    };
  }
  return {
    topic: "kernel",
    status: "info",
    summary: `kernel ${release} is not a RHEL/CentOS 7 kernel: the kmem cgroup leak is specific to 3.10 el7 kernels (Linux 4.6 and later also accept cgroup.memory=nokmem)`,
  };
}

async function kubepodsFindings(memory: string): Promise<{ active: boolean | null; findings: Finding[] }> {
  const kubepods = ["kubepods", "kubepods.slice"].map((d) => path.join(memory, d)).find((d) => existsSync(d));
  if (!kubepods) return { active: null, findings: [{ topic: "kubepods", status: "info", summary: "no kubepods memory cgroup: kubelet is not running pods here" }] };
  // Readable slabinfo means kmem accounting is active; on a fixed node reading it fails (Input/output error).
  const slabinfo = await read(path.join(kubepods, "memory.kmem.slabinfo"));
  const active = Boolean(slabinfo?.startsWith("slabinfo - version"));
  const charged: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory()) continue;
      const sub = path.join(dir, e.name);
      if (e.name.startsWith("pod") && Number(await read(path.join(sub, "memory.kmem.usage_in_bytes"))) > 0) charged.push(e.name);
      if (depth < 2) await walk(sub, depth + 1);
    }
  };
  await walk(kubepods, 0);
  if (!active && !charged.length) {
    return { active: false, findings: [{ topic: "kubepods", status: "ok", summary: `kmem accounting is not active under ${path.basename(kubepods)} (memory.kmem.slabinfo unreadable, no pod charged kmem)` }] };
  }
  return { active: true, findings: [
    {
      topic: "kubepods",
      status: "risk",
      summary: `kmem accounting is active under ${path.basename(kubepods)}${active ? " (memory.kmem.slabinfo readable)" : ""}${charged.length ? `; ${charged.length} pod cgroup(s) charged kernel memory` : ""}`,
      next: "replace runc and kubelet with nokmem builds (below), restart them, then reboot",
    },
  ] };
}

/**
 * The version a binary reports, asked only of the running system's own
 * binaries: one under another --root (a mounted image or disk) is read, never
 * executed on this machine.
 */
async function versionOf(root: string, binary: string, component: Component): Promise<string | undefined> {
  // Only runc's stamp can be read; a 100 MiB kubelet is not read just to find none.
  if (root !== "/") return component === "runc" ? stampedRuncVersion(binary) : undefined;
  const out = await promisify(execFile)(binary, ["--version"], { timeout: 5000 }).then((r) => r.stdout, () => "");
  return out.match(/runc version (\S+)/)?.[1]?.replace(/^(?!v)/, "v") ?? out.match(/Kubernetes (v\S+)/)?.[1];
}

/**
 * runc's version as its Makefile stamps it (-X main.version=1.0.0-rcN), read
 * from the file: the only rc version string in it. kubelet's stamp has no such
 * distinct shape, so it is not guessed.
 */
async function stampedRuncVersion(binary: string): Promise<string | undefined> {
  const text = (await readFile(binary).catch(() => Buffer.alloc(0))).toString("latin1");
  const found = new Set([...text.matchAll(/(?<![\w.-])1\.0\.0-rc\d{1,3}(?![\w.-])/g)].map((m) => m[0]));
  return found.size === 1 ? `v${[...found][0]}` : undefined;
}

/** The asset architecture of an ELF file, from its e_machine (x86-64: 62, AArch64: 183); undefined for others. */
async function elfArch(file: string): Promise<Arch | undefined> {
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return undefined;
  try {
    const head = Buffer.alloc(20);
    await handle.read(head, 0, 20, 0);
    return ({ 62: "amd64", 183: "arm64" } as Record<number, Arch>)[head.readUInt16LE(18)];
  } finally {
    await handle.close();
  }
}

/**
 * The command that rebuilds a binary, for a version the recipes build; otherwise what they say instead.
 * A kubelet under --root is never executed: the kubelet package that owns it, if one does, tells its version.
 */
async function rebuildCommand(root: string, file: string, component: Component, where: string, configured: boolean, owner: PackageOwner | undefined): Promise<string> {
  const packaged = component === "kubelet" && owner?.name === "kubelet" && owner.version ? `v${owner.version}` : undefined;
  const version = (await versionOf(root, file, component)) ?? packaged;
  // runc on PATH is shadowed by install's default (/usr/local/sbin/runc); other names and kubelet are replaced where they are.
  const pathFlag = component === "runc" && path.basename(where) === "runc" && !configured ? "" : ` --path ${where}`;
  // The node's architecture is the binary's own (ELF e_machine), not this machine's.
  const arch = await elfArch(file);
  const asset = (v: string) => (arch ? assetName({ component, version: v, arch }) : `${component}-${v}-nokmem-linux-ARCH`);
  const install = (v: string) => `nokmem-build install dist/${asset(v)} --component ${component}${pathFlag}`;
  if (!version) return `nokmem-build ${component} VERSION (the version \`${where} --version\` prints on the node) && ${install("VERSION")}`;
  try {
    const { tag } = await lookupRecipe(component, version, { allowUnpinned: true });
    return `nokmem-build ${component} ${tag} && ${install(tag)}`;
  } catch (err) {
    if (err instanceof UserError) return err.message;
    throw err;
  }
}

/**
 * Verdicts already reached, by file identity (device, inode, size, mtime): `doctor serve` diagnoses on every
 * scrape, and reading a 100 MiB kubelet each time would cost the node more than the answer is worth.
 */
export type VerdictCache = Map<string, VerifyResult | Error>;

async function verdictOf(file: string, cache: VerdictCache | undefined): Promise<VerifyResult | Error> {
  const st = cache && (await stat(file).catch(() => undefined));
  const key = st && `${file}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  const known = key ? cache.get(key) : undefined;
  if (known) return known;
  const verdict = await verifyBinary(file, { targetGlibc: DEFAULT_TARGET_GLIBC, runtime: false }).catch((err: Error) => err);
  if (key) {
    for (const k of cache!.keys()) if (k.startsWith(`${file}\0`)) cache!.delete(k);
    cache!.set(key, verdict);
  }
  return verdict;
}

/** `protectedBy`: why a kmem-enabling binary cannot leak here (kernel flag, cgroup v2), so it is only information. */
async function binaryFindings(root: string, component: Component, protectedBy: string | undefined, binaries: DoctorReport["binaries"], cache: VerdictCache | undefined): Promise<Finding[]> {
  const configured = component === "runc" ? await configuredRuncs(root) : [];
  const found = component === "runc" ? await findRuncs(root) : await findInstalled(root, component);
  for (const c of configured) {
    const file = path.isAbsolute(c.path) ? path.join(root, c.path) : undefined;
    if (file && !found.includes(file) && (await stat(file).catch(() => undefined))?.isFile()) found.unshift(file);
  }
  if (!found.length) return [{ topic: component, status: "info", summary: `no ${component} on the usual paths` }];
  const findings: Finding[] = configured.map((c) => ({ topic: component, status: "info" as const, summary: `the node's engine runs ${c.path} as runc (${c.source}): install replaces it there` }));
  for (const file of found) {
    const where = onNode(root, file);
    const named = configured.some((c) => c.path === where || c.path === path.basename(where));
    const verdict = await verdictOf(file, cache);
    binaries.push({ component, path: where, kmem: verdict instanceof Error ? null : verdict.kmem === "off" ? "off" : "on" });
    if (verdict instanceof Error) {
      findings.push({ topic: component, status: "info", summary: `${where}: ${verdict.message}` });
    } else if (verdict.kmem === "off") {
      findings.push({ topic: component, status: "ok", summary: `${where}: kmem accounting off (${verdict.checks[0]!.detail})` });
    } else {
      const { owner, unknown } = await packageOwner(root, where);
      const owned = owner
        ? ` (owned by the ${owner.manager} package ${owner.name}${component === "runc" && !named && path.basename(where) === "runc" ? ", left untouched: install shadows it with /usr/local/sbin/runc" : `: hold it after installing, ${owner.hold}`})`
        : unknown ? ` (${unknown})` : "";
      findings.push({
        topic: component,
        status: protectedBy ? "info" : "risk",
        summary: `${where} enables kmem accounting: ${verdict.checks[0]!.detail}${protectedBy ? `; harmless here (${protectedBy})` : ""}${owned}`,
        next: await rebuildCommand(root, file, component, where, named, owner),
      });
    }
  }
  return findings;
}

/** Diagnoses a node (or a mounted node image) from its /proc and /sys, and the runc and kubelet it carries. */
export async function diagnose(root: string, opts: { verdicts?: VerdictCache } = {}): Promise<DoctorReport> {
  await checkNodeRoot(root);
  const release = await read(path.join(root, "proc/sys/kernel/osrelease"));
  if (!release) throw new UsageError(`${path.join(root, "proc/sys/kernel/osrelease")} is missing: --root must hold the node's /proc and /sys`);
  const cmdline = (await read(path.join(root, "proc/cmdline"))) ?? "";
  const cgroupRoot = path.join(root, "sys/fs/cgroup");
  const memory = path.join(cgroupRoot, "memory");
  const cgroup = existsSync(path.join(cgroupRoot, "cgroup.controllers")) ? "v2" : existsSync(memory) ? "v1" : "unknown";

  const findings: Finding[] = [kernelFinding(release, cmdline)];
  let memoryCgroups: DoctorReport["memoryCgroups"] = null;
  let kmemActive: boolean | null = null;
  if (cgroup === "v2") {
    findings.push({ topic: "cgroups", status: "ok", summary: "cgroup v2: there is no v1 kmem limit to switch on; this leak does not apply" });
  } else if (cgroup === "v1") {
    const counted = countedMemoryCgroups(await read(path.join(root, "proc/cgroups")));
    if (typeof counted === "string") {
      findings.push({ topic: "leak", status: "info", summary: `${onNode(root, path.join(root, "proc/cgroups"))} is malformed (${counted}): leaked cgroups not counted` });
    } else if (counted !== undefined) {
      const present = await countDirs(memory);
      memoryCgroups = { counted, present, leaked: Math.max(0, counted - present) };
      const el7 = kernelSupport(release).kind !== "other";
      findings.push(
        memoryCgroups.leaked > 0 && !el7
          ? {
              topic: "leak",
              status: "info",
              summary: `the kernel counts ${counted} memory cgroups but ${present} exist: ${memoryCgroups.leaked} are dying, which this kernel reclaims as their memory is freed`,
            }
          : memoryCgroups.leaked > 0
          ? {
              topic: "leak",
              status: "risk",
              summary: `the kernel counts ${counted} memory cgroups but ${present} exist: ${memoryCgroups.leaked} leaked (the limit is 65535)`,
              next: `reboot to reclaim ${memoryCgroups.leaked} leaked memory cgroups, after replacing runc and kubelet or they leak again`,
            }
          : { topic: "leak", status: "ok", summary: `${counted} memory cgroups counted, ${present} present: none leaked` },
      );
    }
    const kubepods = await kubepodsFindings(memory);
    kmemActive = kubepods.active;
    findings.push(...kubepods.findings);
  } else {
    findings.push({ topic: "cgroups", status: "info", summary: `no cgroup file system under ${onNode(root, cgroupRoot)}` });
  }
  // With v2, or with the kernel flag, the binaries cannot leak, but say what they are anyway.
  const protectedBy = cgroup === "v2" ? "cgroup v2" : findings[0]!.status === "ok" ? "cgroup.memory=nokmem" : undefined;
  const binaries: DoctorReport["binaries"] = [];
  for (const component of ["runc", "kubelet"] as const) findings.push(...(await binaryFindings(root, component, protectedBy, binaries, opts.verdicts)));
  const kernelNokmem = findings[0]!.status === "ok";
  return { root, kernel: release, cgroup, memoryCgroups, kernelNokmem, kmemActive, binaries, findings, healthy: findings.every((f) => f.status !== "risk") };
}
