import { readFile } from "node:fs/promises";
import * as z from "zod";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * The build manifest `<asset>.json`: what was built, from what, with what.
 * One schema for the writer (the publish step) and every reader (reuse,
 * verify, download), so a reader never guesses at a field.
 */
export const manifestSchema = z.object({
  schemaVersion: z.literal(1),
  component: z.enum(["runc", "kubelet"]),
  version: z.string(),
  asset: z.string(),
  arch: z.string(),
  upstream: z.object({ url: z.string(), source: z.string(), commit: z.string(), pinnedCommit: z.string().nullable(), pinned: z.boolean() }),
  recipe: z.object({ id: z.string(), layout: z.string(), range: z.string(), method: z.enum(["build-tag", "source-patch"]) }),
  patch: z.object({ file: z.string(), stubbed: z.array(z.string()), removedImports: z.array(z.string()), sha256 }).nullable(),
  build: z.object({
    command: z.string(),
    buildTags: z.array(z.string()),
    makeVars: z.record(z.string(), z.string()),
    env: z.record(z.string(), z.string()),
    network: z.literal("none"),
    /** The Go build cache the compile ran with: a warm volume, a fresh one, or none (--no-cache). Same bytes either way. */
    goCache: z.enum(["warm", "cold", "off"]).optional(),
  }),
  toolchain: z.object({
    /** The Debian suite whose packages built it; null for a --go-image of the user's. */
    suite: z.string().nullable(),
    /** The Debian base image: its id, where it came from, and its registry digest when pulled. */
    base: z.object({ id: z.string(), origin: z.enum(["present", "registry", "debootstrap"]), from: z.string(), digest: z.string().nullable() }).nullable(),
    goImage: z.string(),
    goImageId: z.string(),
    /** Exact Debian package versions of the Go compiler, gcc, libc6-dev and libseccomp-dev. */
    packages: z.record(z.string(), z.string()),
    builderImage: z.string(),
    builderImageId: z.string(),
    goVersion: z.string(),
    recipeGo: z.string(),
    engine: z.string(),
  }),
  binary: z.object({
    sha256,
    size: z.number().int().nonnegative(),
    linkage: z.enum(["static", "dynamic"]),
    maxGlibc: z.string().nullable(),
    targetGlibc: z.string(),
    versionOutput: z.string(),
    /** Why the binary does not enable kmem accounting, read from it before it was published. */
    kmemEvidence: z.string(),
  }),
  tool: z.object({ name: z.literal("nokmem-build"), version: z.string() }),
  builtAt: z.string(),
  durationSeconds: z.number(),
  warnings: z.array(z.string()),
  /** Every other file the build published beside this manifest, with its sha256 (SHA256SUMS lists the manifest too). */
  files: z.array(z.object({ name: z.string(), kind: z.enum(["binary", "checksum", "log", "patch"]), sha256 })),
});

export type BuildManifest = z.infer<typeof manifestSchema>;

/** The manifest in `text`, or undefined when it is not one (unreadable JSON, missing or mistyped fields). */
export function parseManifest(text: string): BuildManifest | undefined {
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The manifest beside a binary (`<file>.json`), if there is a valid one. */
export async function readManifestBeside(file: string): Promise<BuildManifest | undefined> {
  return readFile(`${file}.json`, "utf8").then(parseManifest, () => undefined);
}
