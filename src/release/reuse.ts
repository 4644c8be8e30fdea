import path from "node:path";
import type { ResolvedRecipe } from "../recipes/resolve.js";
import { sha256File } from "./checksums.js";
import { readManifestBeside, type BuildManifest } from "./manifest.js";

/**
 * The manifest of a build of the same version already in the output
 * directory, if it still holds: the binary matches its manifest's sha256,
 * from the same recipe, and (for a pinned tag) from the pinned commit.
 * Anything else is rebuilt.
 */
export async function reusableBuild(outDir: string, asset: string, resolved: ResolvedRecipe): Promise<BuildManifest | undefined> {
  const file = path.join(outDir, asset);
  const manifest = await readManifestBeside(file);
  if (!manifest || manifest.version !== resolved.tag || manifest.recipe.id !== resolved.recipe.id) return undefined;
  if (resolved.pinnedCommit && (manifest.upstream.commit !== resolved.pinnedCommit || !manifest.upstream.pinned)) return undefined;
  if ((await sha256File(file).catch(() => undefined)) !== manifest.binary.sha256) return undefined;
  return manifest;
}
