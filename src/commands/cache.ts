import path from "node:path";
import { Option, type Command } from "commander";
import { ReportedFailure } from "../errors.js";
import { connectDocker } from "../docker/engine.js";
import { listCaches, pruneCaches, type CacheEntry, type CacheReport } from "../orchestrator/caches.js";
import { jsonOption } from "./options.js";
import { ENV, defaultCacheDir } from "../env.js";
import type { CommandRuntime } from "./runtime.js";

/** 1536 -> "1.5 KB"; sizes the engine did not report -> "?". */
function human(bytes: number | null): string {
  if (bytes === null) return "?";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) (n /= 1024), u++;
  return `${u ? n.toFixed(1) : n} ${units[u]}`;
}

const total = (entries: CacheEntry[]) => entries.reduce((sum, e) => sum + (e.size ?? 0), 0);
const line = (e: CacheEntry) => `${e.kind.padEnd(7)}  ${human(e.size).padStart(9)}  ${e.name}  (${e.detail})`;

function printHeader(rt: CommandRuntime, report: CacheReport): void {
  rt.print(`cache dir ${report.cacheDir}; engine ${report.engine}`);
  if (report.engineError) rt.print(`volumes: not listed: ${report.engineError}`);
}

const cacheDirOption = () => new Option("--cache-dir <dir>", "the source cache and failed-build logs").default(defaultCacheDir()).env(ENV.cacheDir);

export function registerCacheCommand(program: Command, rt: CommandRuntime): void {
  const cache = program.command("cache").description("the Go build cache volumes and the source cache: list them with their sizes, or prune them");
  cache
    .command("list")
    .description("list the Go build cache volumes (one per toolchain) and the source clones and logs under --cache-dir, with their sizes")
    .addOption(cacheDirOption())
    .addOption(jsonOption("the report"))
    .action(async (flags: { cacheDir: string; json?: boolean }) => {
      const report = await listCaches(connectDocker(), path.resolve(flags.cacheDir));
      if (flags.json) rt.printJson({ ok: !report.engineError, ...report, totalBytes: total(report.entries) });
      else {
        printHeader(rt, report);
        for (const e of report.entries) rt.print(line(e));
        rt.print(`total ${human(total(report.entries))} in ${report.entries.length} cache(s)`);
      }
      if (report.engineError) throw new ReportedFailure("the Docker engine did not answer: its volumes are not listed");
    });
  cache
    .command("prune")
    .description("remove the Go build cache volumes and the source clones and logs under --cache-dir, printing each with its size")
    .addOption(cacheDirOption())
    .option("--dry-run", "only list what would be removed")
    .addOption(jsonOption("what was removed"))
    .action(async (flags: { cacheDir: string; dryRun?: boolean; json?: boolean }) => {
      const docker = connectDocker();
      const report = await listCaches(docker, path.resolve(flags.cacheDir));
      const results = flags.dryRun ? report.entries.map((e) => ({ ...e, removed: false })) : await pruneCaches(docker, report);
      const failed = results.filter((r) => "error" in r);
      const freed = total(results.filter((r) => r.removed));
      const ok = !report.engineError && failed.length === 0;
      if (flags.json) rt.printJson({ ok, dryRun: Boolean(flags.dryRun), cacheDir: report.cacheDir, engine: report.engine, engineError: report.engineError, entries: results, totalBytes: total(results), freedBytes: freed });
      else {
        printHeader(rt, report);
        for (const r of results) rt.print(`${flags.dryRun ? "would remove" : r.removed ? "removed" : "kept"}  ${line(r)}${"error" in r ? `: ${r.error}` : ""}`);
        rt.print(flags.dryRun ? `would free ${human(total(results))}` : `freed ${human(freed)}`);
      }
      if (report.engineError) throw new ReportedFailure("the Docker engine did not answer: its volumes were not pruned");
      if (failed.length) throw new ReportedFailure(`${failed.length} cache(s) could not be removed: ${failed.map((f) => f.name).join(", ")}`);
    });
}
