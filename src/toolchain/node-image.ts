import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { create } from "tar";
import type { DockerEngine } from "../docker/engine.js";
import { PACKAGE_ROOT } from "../package-root.js";
import { TOOL_VERSION } from "../tool-version.js";
import { aptMirror } from "./apt-mirror.js";
import { ensureBaseImage, type BaseImage, type BaseImageOptions } from "./base-image.js";

/** Debian's current stable suite: its nodejs package is Node.js 20. */
export const NODE_SUITE = "trixie";

export interface NodeImage {
  image: string;
  id: string;
  base: BaseImage | null;
  created: boolean;
}

async function filesUnder(rel: string): Promise<string[]> {
  const entries = await readdir(path.join(PACKAGE_ROOT, rel), { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(PACKAGE_ROOT, path.join(e.parentPath, e.name))).sort();
}

/**
 * What the image is made from, and a hash of all of it: a changed CLI or dependency makes a new
 * image. lib/ is the whole CLI, its dependencies bundled in: no node_modules.
 */
async function nodeContext(): Promise<{ entries: string[]; hash: string }> {
  const entries = ["containers", "lib", "recipes", "package.json"];
  const hash = createHash("sha256");
  for (const file of (await Promise.all(entries.map((e) => (e === "package.json" ? [e] : filesUnder(e))))).flat()) {
    hash.update(file).update(await readFile(path.join(PACKAGE_ROOT, file)));
  }
  return { entries, hash: hash.digest("hex") };
}

/**
 * The node image (containers/node): this CLI with its own Node.js, made from
 * the same base-image machinery as the build toolchains, once per content.
 */
export async function ensureNodeImage(docker: DockerEngine, opts: BaseImageOptions & { force?: boolean }): Promise<NodeImage> {
  const { entries, hash } = await nodeContext();
  // The tag names the content: another build of the CLI never takes over this one's image.
  const image = `nokmem-build/node:${TOOL_VERSION}-${hash.slice(0, 12)}`;
  const existing = opts.force ? undefined : await docker.imageInfo(image);
  if (existing) return { image, id: existing.id, base: null, created: false };

  // One mirror for the base (debootstrap) and the packages on it.
  const mirror = opts.debianMirror ?? (await aptMirror());
  const base = await ensureBaseImage(docker, NODE_SUITE, { ...opts, debianMirror: mirror });
  opts.onLine(`making ${image} from ${base.image} (${base.origin}: ${base.from})`);
  const context = create({ cwd: PACKAGE_ROOT, portable: true }, entries) as unknown as Readable;
  const id = await docker.buildImage(
    context,
    { tag: image, dockerfile: "containers/node/Dockerfile", buildArgs: { BASE: base.image, DEBIAN_MIRROR: mirror ?? "" }, networkMode: "host" },
    opts.onLine,
  );
  return { image, id, base, created: true };
}
