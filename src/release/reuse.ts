import { readFile } from "node:fs/promises";
import path from "node:path";
import { glibcAtMost } from "../binary/glibc.js";
import type { ResolvedRecipe } from "../recipes/resolve.js";
import { SUMS_FILE, parseSums, sha256File } from "./checksums.js";
import { readManifestBeside, type BuildManifest } from "./manifest.js";

/** The files a build writes beside SHA256SUMS: those its manifest lists, and the manifest. */
export const buildFiles = (m: BuildManifest) => [...m.files.map((f) => f.name), `${m.asset}.json`];

/** What this run would build with, beyond the recipe: a previous build must have been made the same way. */
export interface ReuseWanted {
  /** The toolchain this run would use: a Debian suite's, or a --go-image. */
  toolchain: { suite: string } | { goImage: string };
  allowUnpinned: boolean;
  link: "static" | "dynamic";
  targetGlibc: string;
}

/** Whether the manifest's toolchain, linking and glibc are what this run would give. */
function sameMaking(m: BuildManifest, resolved: ResolvedRecipe, wanted: ReuseWanted): boolean {
  const t = wanted.toolchain;
  if ("suite" in t ? m.toolchain.suite !== t.suite : m.toolchain.suite !== null || m.toolchain.goImage !== t.goImage) return false;
  // A static build carries the recipe's static environment; a dynamic one does not.
  if (!Object.keys(resolved.recipe.staticEnv).every((k) => (k in m.build.env) === (wanted.link === "static"))) return false;
  return !m.binary.maxGlibc || glibcAtMost(m.binary.maxGlibc, wanted.targetGlibc);
}

/**
 * The manifest of a build of the same version already in the output
 * directory, if it still holds: from the same recipe and the same toolchain
 * (suite or --go-image), linking and glibc target; (for a pinned tag) from the
 * pinned commit, or, with --allow-unpinned, unpinned; and every file it wrote
 * still present with the sha256 SHA256SUMS lists for it (the binary's also
 * equal to the manifest's). Anything else is rebuilt. An unpinned build's
 * commit is the caller's to check against what the source serves now.
 */
export async function reusableBuild(outDir: string, asset: string, resolved: ResolvedRecipe, wanted: ReuseWanted): Promise<BuildManifest | undefined> {
  const manifest = await readManifestBeside(path.join(outDir, asset));
  if (!manifest || manifest.asset !== asset || manifest.version !== resolved.tag || manifest.recipe.id !== resolved.recipe.id) return undefined;
  if (resolved.pinnedCommit && manifest.upstream.pinned && manifest.upstream.commit !== resolved.pinnedCommit) return undefined;
  if (resolved.pinnedCommit && !manifest.upstream.pinned && !wanted.allowUnpinned) return undefined;
  if (!sameMaking(manifest, resolved, wanted)) return undefined;
  // Every file the manifest lists, by the manifest's own sha256; the manifest itself by SHA256SUMS.
  const sums = await readFile(path.join(outDir, SUMS_FILE), "utf8").then(parseSums, () => new Map<string, string>());
  const expected: Array<[string, string | undefined]> = [...manifest.files.map((f): [string, string] => [f.name, f.sha256]), [`${asset}.json`, sums.get(`${asset}.json`)]];
  if (!manifest.files.some((f) => f.kind === "binary" && f.name === asset && f.sha256 === manifest.binary.sha256)) return undefined;
  for (const [name, sha256] of expected) {
    if (!sha256 || sums.get(name) !== sha256 || (await sha256File(path.join(outDir, name)).catch(() => undefined)) !== sha256) return undefined;
  }
  return manifest;
}
