import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const CLI = path.join(ROOT, "lib/cli.js");
export const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI as a user would, without a terminal; `started` gets the process (to signal it, or read its pid). */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}, started?: (child: ChildProcess) => void): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: "true", ...env } });
    started?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `nokmem-test-${prefix}-`));
}

export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });

/** Containers carrying the tool's label: none must outlive a run. `pid`: of that run only; `host`: on that engine (DOCKER_HOST form). */
export async function toolContainers(opts: { pid?: number; host?: string } = {}): Promise<string[]> {
  const filters = ["--filter", "label=io.nokmem-build", ...(opts.pid ? ["--filter", `label=io.nokmem-build.pid=${opts.pid}`] : [])];
  const { stdout } = await run("docker", [...(opts.host ? ["-H", opts.host] : []), "ps", "-aq", ...filters]);
  return stdout.split("\n").filter(Boolean);
}

export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** Temp entries this tool creates in the system temp directory (or `dir`, a TMPDIR given to the runs). */
export async function toolTempEntries(dir = os.tmpdir()): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith("nokmem-build-"));
}

/** The registry-less Go image, made (or reused) exactly as README and .ci/run do. */
export async function bootstrapGoImage(suite = "bookworm"): Promise<string> {
  const res = await cli(["toolchain", "bootstrap", "--suite", suite, "--json"]);
  if (res.code !== 0) throw new Error(`toolchain bootstrap failed: ${res.stdout}${res.stderr}`);
  return JSON.parse(res.stdout).image;
}

/**
 * Runs the built binary's "create a memory cgroup" command (what runc does per
 * container and kubelet per pod) on a temporary directory, and reports whether
 * it wrote memory.kmem.limit_in_bytes, i.e. whether it turns kmem accounting on.
 */
export async function kmemLimitWritten(binary: string, command: string): Promise<{ written: boolean; value?: string }> {
  const dir = await tempDir("cgroup");
  try {
    const cgroup = path.join(dir, "memory", "kubepods", "pod1");
    await run(binary, [command, cgroup]);
    const file = path.join(cgroup, "memory.kmem.limit_in_bytes");
    return existsSync(file) ? { written: true, value: (await readFile(file, "utf8")).trim() } : { written: false };
  } finally {
    await removeDir(dir);
  }
}

/** The ELF as binutils sees it (not our own reader): static or not, and the GLIBC_ versions it needs. */
export async function elfByReadelf(binary: string): Promise<{ static: boolean; glibc: string[] }> {
  const { stdout: programs } = await run("readelf", ["-lW", binary]);
  const { stdout: dynamic } = await run("readelf", ["-dW", binary]);
  const { stdout: versions } = await run("readelf", ["-VW", binary], { maxBuffer: 64 << 20 });
  return {
    static: !/INTERP/.test(programs) && !/\(NEEDED\)/.test(dynamic),
    glibc: [...new Set([...versions.matchAll(/Name: GLIBC_([\d.]+)/g)].map((m) => m[1]!))],
  };
}

/** Polls `check` every 100 ms until it holds; fails naming `what` after `ms`. */
export async function waitFor(what: string, check: () => Promise<boolean>, ms = 10 * 60_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await check()) return;
  throw new Error(`timed out waiting for ${what}`);
}
