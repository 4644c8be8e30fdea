import { copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Artifact } from "./artifact-list.js";
import { tempBeside } from "../fs/atomic.js";
import { SUMS_FILE, mergeSums, sha256File } from "./checksums.js";

/**
 * Moves staged artifacts into the output directory. Each file is first copied
 * next to its final name and then renamed, so a reader never sees half a file;
 * SHA256SUMS is merged and replaced last, once every file it lists is in place.
 */
// Builds running side by side (build --jobs) publish one at a time, so no SHA256SUMS merge is lost.
let publishing: Promise<unknown> = Promise.resolve();

export function publishArtifacts(outDir: string, artifacts: readonly Artifact[]): Promise<string[]> {
  const next = publishing.then(() => publishNow(outDir, artifacts));
  publishing = next.catch(() => undefined);
  return next;
}

async function publishNow(outDir: string, artifacts: readonly Artifact[]): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const sums = new Map<string, string>();
  const temps = new Map<string, string>();
  try {
    for (const a of artifacts) {
      const tmp = tempBeside(path.join(outDir, a.name));
      temps.set(a.name, tmp);
      await copyFile(a.path, tmp);
      sums.set(a.name, await sha256File(tmp));
    }
    const existing = await readFile(path.join(outDir, SUMS_FILE), "utf8").catch(() => "");
    const sumsTmp = tempBeside(path.join(outDir, SUMS_FILE));
    temps.set(SUMS_FILE, sumsTmp);
    await writeFile(sumsTmp, mergeSums(existing, sums));
    // Everything is staged beside its final name: the renames below cannot fail halfway for lack of space.
    for (const a of artifacts) await rename(temps.get(a.name)!, path.join(outDir, a.name));
    await rename(sumsTmp, path.join(outDir, SUMS_FILE));
  } finally {
    await Promise.all([...temps.values()].map((t) => rm(t, { force: true })));
  }
  return [...artifacts.map((a) => a.name), SUMS_FILE];
}
