import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, rmdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { UsageError } from "../errors.js";
import type { Check } from "./check.js";

const CGROUP_V1 = "/sys/fs/cgroup";
const MEMORY_LIMIT = 64 * 2 ** 20;

/** --runtime needs what the kernel and strace need: root, a cgroup v1 memory hierarchy, strace. */
async function requireRuntimeHost(): Promise<void> {
  if (process.getuid?.() !== 0) throw new UsageError("--runtime starts a container: run it as root");
  if (!existsSync(path.join(CGROUP_V1, "memory"))) {
    throw new UsageError(`--runtime needs a cgroup v1 host (no memory hierarchy at ${CGROUP_V1}/memory); drop --runtime to check the binary statically`);
  }
  try {
    await promisify(execFile)("strace", ["-V"]);
  } catch {
    throw new UsageError("--runtime watches the container start with strace: apt-get install strace (or yum install strace)");
  }
}

/** A minimal OCI bundle whose only process is the runc binary itself (static), printing its version. */
async function makeBundle(binary: string, cgroupsPath: string): Promise<string> {
  const bundle = await mkdtemp(path.join(os.tmpdir(), "nokmem-build-bundle-"));
  await mkdir(path.join(bundle, "rootfs", "proc"), { recursive: true });
  await copyFile(binary, path.join(bundle, "rootfs", "runc"));
  const config = {
    ociVersion: "1.0.1",
    process: { terminal: false, user: { uid: 0, gid: 0 }, args: ["/runc", "--version"], env: ["PATH=/"], cwd: "/", noNewPrivileges: true },
    root: { path: "rootfs", readonly: true },
    hostname: "nokmem-verify",
    mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
    linux: {
      cgroupsPath,
      resources: { memory: { limit: MEMORY_LIMIT } },
      namespaces: [{ type: "pid" }, { type: "mount" }, { type: "ipc" }, { type: "uts" }],
    },
  };
  await writeFile(path.join(bundle, "config.json"), JSON.stringify(config, null, 2));
  return bundle;
}

function traced(args: string[], log: string, timeoutMs: number): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("strace", ["-f", "-qq", "-e", "trace=open,openat,creat", "-o", log, "--", ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b) => (stderr += b));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 137, stderr });
    });
  });
}

/**
 * Starts a throwaway container with a memory limit using this runc, under
 * strace, and reports whether it opened memory.kmem.limit_in_bytes for
 * writing. Reading the value back proves nothing: some kernels accept the
 * write and ignore it, so the write itself is what is observed.
 */
export async function observeKmemWrites(binary: string): Promise<Check> {
  const { stdout } = await promisify(execFile)(binary, ["--version"]).catch(() => ({ stdout: "" }));
  if (!stdout.startsWith("runc version")) return { name: "runtime", ok: true, detail: "skipped: only runc is started as a runtime" };
  await requireRuntimeHost();

  const id = `nokmem-verify-${randomBytes(4).toString("hex")}`;
  const bundle = await makeBundle(binary, `/${id}`);
  const log = path.join(bundle, "strace.log");
  try {
    const run = await traced([binary, "run", "--bundle", bundle, id], log, 60_000);
    const opened = (await readFile(log, "utf8").catch(() => ""))
      .split("\n")
      .filter((l) => l.includes("memory.kmem.limit_in_bytes") && /O_(WRONLY|RDWR)/.test(l));
    if (opened.length) {
      return { name: "runtime", ok: false, detail: `started a container with a ${MEMORY_LIMIT >> 20} MiB memory limit: it opened memory.kmem.limit_in_bytes for writing (kmem accounting on)` };
    }
    if (run.code !== 0) {
      return { name: "runtime", ok: false, detail: `could not start a container with it (exit ${run.code}): ${run.stderr.trim().split("\n").at(-1) ?? ""}` };
    }
    return { name: "runtime", ok: true, detail: `started a container with a ${MEMORY_LIMIT >> 20} MiB memory limit: it never opened memory.kmem.limit_in_bytes for writing (strace)` };
  } finally {
    await promisify(execFile)(binary, ["delete", "-f", id]).catch(() => undefined);
    // runc removes its cgroups on delete; this catches what a failed start left.
    for (const controller of await readdir(CGROUP_V1).catch(() => [])) {
      await rmdir(path.join(CGROUP_V1, controller, id)).catch(() => undefined);
    }
    await rm(bundle, { recursive: true, force: true });
  }
}
