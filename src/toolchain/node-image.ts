import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { create } from "tar";
import type { DockerEngine } from "../docker/engine.js";
import { TOOL_VERSION } from "../tool-version.js";
import { aptMirror } from "./apt-mirror.js";
import { ensureBaseImage, type BaseImage, type BaseImageOptions } from "./base-image.js";

/** Debian's current stable suite: its nodejs package is Node.js 20. */
export const NODE_SUITE = "trixie";

/** The installed package this code runs from: lib/, recipes/, containers/, package.json, node_modules/. */
const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface NodeImage {
  image: string;
  id: string;
  base: BaseImage | null;
  created: boolean;
}

/**
 * The node_modules directories the CLI needs at run time: its dependencies and
 * theirs, found the way Node resolves them (nested first, then hoisted).
 */
async function productionModules(): Promise<string[]> {
  const root = path.resolve(PACKAGE_ROOT);
  const resolveFrom = (fromDir: string, name: string): string | undefined => {
    for (let dir = fromDir; ; dir = path.dirname(dir)) {
      if (path.basename(dir) === "node_modules") continue;
      const candidate = path.join(dir, "node_modules", name);
      if (existsSync(path.join(candidate, "package.json"))) return candidate;
      if (dir === root || dir === path.dirname(dir)) return undefined;
    }
  };
  const found = new Set<string>();
  const visit = async (fromDir: string, deps: Record<string, string> = {}) => {
    for (const name of Object.keys(deps)) {
      const at = resolveFrom(fromDir, name);
      if (!at || found.has(at)) continue; // an optional dependency not installed for this platform
      found.add(at);
      const pkg = JSON.parse(await readFile(path.join(at, "package.json"), "utf8")) as Record<string, Record<string, string>>;
      await visit(at, { ...pkg.dependencies, ...pkg.optionalDependencies });
    }
  };
  const pkg = JSON.parse(await readFile(path.join(root, "package.json"), "utf8")) as Record<string, Record<string, string>>;
  await visit(root, pkg.dependencies);
  return [...found].map((dir) => path.relative(root, dir)).sort();
}

async function filesUnder(rel: string): Promise<string[]> {
  const entries = await readdir(path.join(PACKAGE_ROOT, rel), { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(PACKAGE_ROOT, path.join(e.parentPath, e.name))).sort();
}

/** What the image is made from, and a hash of all of it: a changed CLI or dependency makes a new image. */
async function nodeContext(): Promise<{ entries: string[]; hash: string }> {
  const modules = await productionModules();
  const entries = ["containers", "lib", "recipes", "package.json", ...modules];
  const hash = createHash("sha256");
  for (const file of [...(await filesUnder("containers")), ...(await filesUnder("lib")), ...(await filesUnder("recipes")), "package.json"]) {
    hash.update(file).update(await readFile(path.join(PACKAGE_ROOT, file)));
  }
  for (const m of modules) hash.update(m).update(await readFile(path.join(PACKAGE_ROOT, m, "package.json")));
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
