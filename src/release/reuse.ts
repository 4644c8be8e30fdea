import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ResolvedRecipe } from "../recipes/resolve.js";
import { SUMS_FILE, parseSums, sha256File } from "./checksums.js";
import { readManifestBeside, type BuildManifest } from "./manifest.js";

/** The files a build writes beside SHA256SUMS, as its manifest describes them. */
export const buildFiles = (m: BuildManifest) => [m.asset, `${m.asset}.sha256`, `${m.asset}.json`, `${m.asset}.log`, ...(m.patch ? [`${m.asset}.patch`] : [])];

/**
 * The manifest of a build of the same version already in the output
 * directory, if it still holds: from the same recipe, (for a pinned tag) from
 * the pinned commit, and every file it wrote still present with the sha256
 * SHA256SUMS lists for it (the binary's also equal to the manifest's).
 * Anything else is rebuilt.
 */
export async function reusableBuild(outDir: string, asset: string, resolved: ResolvedRecipe): Promise<BuildManifest | undefined> {
  const manifest = await readManifestBeside(path.join(outDir, asset));
  if (!manifest || manifest.asset !== asset || manifest.version !== resolved.tag || manifest.recipe.id !== resolved.recipe.id) return undefined;
  if (resolved.pinnedCommit && (manifest.upstream.commit !== resolved.pinnedCommit || !manifest.upstream.pinned)) return undefined;
  const sums = await readFile(path.join(outDir, SUMS_FILE), "utf8").then(parseSums, () => new Map<string, string>());
  if (sums.get(asset) !== manifest.binary.sha256) return undefined;
  for (const name of buildFiles(manifest)) {
    const listed = sums.get(name);
    if (!listed || (await sha256File(path.join(outDir, name)).catch(() => undefined)) !== listed) return undefined;
  }
  return manifest;
}
