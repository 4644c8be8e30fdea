import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI = path.join(ROOT, "lib/cli.js");
export const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI as a user would, without a terminal. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: "true", ...env } });
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

/** Containers carrying the tool's label: none must outlive a run. */
export async function toolContainers(): Promise<string[]> {
  const { stdout } = await run("docker", ["ps", "-aq", "--filter", "label=io.nokmem-build"]);
  return stdout.split("\n").filter(Boolean);
}

export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** Temp entries this tool creates in the system temp directory. */
export async function toolTempEntries(): Promise<string[]> {
  return (await readdir(os.tmpdir())).filter((n) => n.startsWith("nokmem-build-"));
}

/** The registry-less Go image, made (or reused) exactly as README and .ci/run do. */
export async function bootstrapGoImage(suite = "bookworm"): Promise<string> {
  const res = await cli(["toolchain", "bootstrap", "--suite", suite, "--json"]);
  if (res.code !== 0) throw new Error(`toolchain bootstrap failed: ${res.stdout}${res.stderr}`);
  return JSON.parse(res.stdout).image;
}
