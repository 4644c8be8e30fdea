import { lstat, readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { DockerEngine } from "../docker/engine.js";
import { STARTUP_CACHE } from "../env.js";
import { errorMessage } from "../errors.js";
import { TOOLCHAIN_PROBES } from "../toolchain/builder.js";
import { BUILDER_LABEL, cacheVolumeFilter } from "../toolchain/go-cache.js";

export interface CacheEntry {
  /**
   * volume: a toolchain's Go build cache; sources: one tag's shallow bare clone; toolchains: what
   * builder images were found to hold; logs: failed builds' logs; startup: the CLI's compiled code.
   */
  kind: "volume" | "sources" | "toolchains" | "logs" | "startup";
  /** The volume's name, or the directory's path. */
  name: string;
  /** Bytes it holds; null when the engine did not say. */
  size: number | null;
  detail: string;
}

export interface CacheReport {
  cacheDir: string;
  engine: string;
  /** Why the volumes could not be listed (the engine did not answer), if so. */
  engineError?: string;
  entries: CacheEntry[];
}

/** Bytes under a path (files and links as they take up space; nothing followed). */
async function diskUsage(p: string): Promise<number> {
  const st = await lstat(p).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  const names = await readdir(p).catch(() => [] as string[]);
  let total = st.size;
  for (const name of names) total += await diskUsage(path.join(p, name));
  return total;
}

const subdirs = async (dir: string) =>
  (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name)).sort();

/** What --cache-dir holds: a shallow bare clone per source and tag (sources/<component>-<source>/<tag>), toolchains/, logs/ and startup/. */
async function directoryEntries(cacheDir: string): Promise<CacheEntry[]> {
  const entries: CacheEntry[] = [];
  for (const repo of await subdirs(path.join(cacheDir, "sources"))) {
    for (const clone of await subdirs(repo)) {
      entries.push({ kind: "sources", name: clone, size: await diskUsage(clone), detail: `${path.basename(repo).replace(/-[0-9a-f]{12}$/, "")} ${path.basename(clone)} source` });
    }
  }
  const probes = path.join(cacheDir, TOOLCHAIN_PROBES);
  const kept = await readdir(probes).catch(() => undefined);
  if (kept) entries.push({ kind: "toolchains", name: probes, size: await diskUsage(probes), detail: `Go version and packages of ${kept.length} builder image(s)` });
  const logs = path.join(cacheDir, "logs");
  const files = await readdir(logs).catch(() => undefined);
  if (files) entries.push({ kind: "logs", name: logs, size: await diskUsage(logs), detail: `${files.length} failed-build log(s)` });
  const startup = path.join(cacheDir, STARTUP_CACHE);
  const compiled = await readdir(startup).catch(() => undefined);
  if (compiled) entries.push({ kind: "startup", name: startup, size: await diskUsage(startup), detail: `V8 code cache of ${compiled.length} command(s), for a faster start` });
  return entries;
}

/** The tool's Go build cache volumes on the engine (of NOKMEM_BUILD_CACHE_SCOPE, when set), with their sizes. */
async function volumeEntries(docker: DockerEngine): Promise<CacheEntry[]> {
  await docker.ping();
  const volumes = await docker.listVolumes(cacheVolumeFilter());
  const sizes = volumes.length ? await docker.volumeSizes() : new Map<string, number>();
  return volumes
    .map((v) => ({ kind: "volume" as const, name: v.name, size: sizes.get(v.name) ?? null, detail: `Go build cache of ${v.labels[BUILDER_LABEL] ?? "a toolchain"}` }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Everything the tool caches, engine and disk, with sizes (as `cache list` and `cache prune` show it). */
export async function listCaches(docker: DockerEngine, cacheDir: string): Promise<CacheReport> {
  const report: CacheReport = { cacheDir, engine: docker.endpoint, entries: [] };
  try {
    report.entries.push(...(await volumeEntries(docker)));
  } catch (err) {
    report.engineError = errorMessage(err);
  }
  report.entries.push(...(await directoryEntries(cacheDir)));
  return report;
}

/**
 * Removes what the report lists. A volume a running build holds stays (the
 * engine refuses), and is reported with the reason; the rest goes on.
 */
export async function pruneCaches(docker: DockerEngine, report: CacheReport): Promise<Array<CacheEntry & { removed: boolean; error?: string }>> {
  const results: Array<CacheEntry & { removed: boolean; error?: string }> = [];
  for (const entry of report.entries) {
    try {
      if (entry.kind === "volume") await docker.removeVolume(entry.name);
      else await rm(entry.name, { recursive: true, force: true });
      results.push({ ...entry, removed: true });
    } catch (err) {
      results.push({ ...entry, removed: false, error: errorMessage(err) });
    }
  }
  return results;
}
