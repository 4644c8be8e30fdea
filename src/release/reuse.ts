import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ResolvedRecipe } from "../recipes/resolve.js";
import { SUMS_FILE, sha256File } from "./checksums.js";
import type { BuildManifest } from "./manifest.js";

/**
 * A build of the same version already in the output directory, if it still
 * holds: the binary matches its manifest's sha256, from the same recipe, and
 * (for a pinned tag) from the pinned commit. Anything else is rebuilt.
 */
export async function reusableBuild(outDir: string, asset: string, resolved: ResolvedRecipe) {
  const file = path.join(outDir, asset);
  const manifest = await readFile(`${file}.json`, "utf8").then((t) => JSON.parse(t) as BuildManifest, () => undefined);
  if (!manifest || manifest.version !== resolved.tag || manifest.recipe?.id !== resolved.recipe.id) return undefined;
  if (resolved.pinnedCommit && (manifest.upstream.commit !== resolved.pinnedCommit || !manifest.upstream.pinned)) return undefined;
  if ((await sha256File(file).catch(() => undefined)) !== manifest.binary.sha256) return undefined;
  const files = [asset, `${asset}.sha256`, `${asset}.json`, `${asset}.log`, ...(manifest.patch ? [`${asset}.patch`] : []), SUMS_FILE];
  return { component: manifest.component, version: manifest.version, asset, files, sha256: manifest.binary.sha256, manifest };
}
