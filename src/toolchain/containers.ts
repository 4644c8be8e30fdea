import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { create } from "tar";
import { PACKAGE_ROOT } from "../package-root.js";

const CONTAINERS_DIR = path.join(PACKAGE_ROOT, "containers");

export type ContainerRecipe = "builder" | "go-debian";

/** The files an image is built from: its Dockerfile and the scripts every image shares. */
const contextFiles = (name: ContainerRecipe) => [`${name}/Dockerfile`, "shared/apt-sources.sh"];

export const dockerfilePath = (name: ContainerRecipe) => `${name}/Dockerfile`;

/** Changes when any file the image is built from changes, so a stale image is rebuilt. */
export async function containerHash(name: ContainerRecipe): Promise<string> {
  const hash = createHash("sha256");
  for (const file of contextFiles(name)) hash.update(file).update(await readFile(path.join(CONTAINERS_DIR, file)));
  return hash.digest("hex");
}

/** The build context of containers/<name>/ (with containers/shared/) as a tar stream for the engine. */
export function buildContext(name: ContainerRecipe): Readable {
  return create({ cwd: CONTAINERS_DIR, portable: true }, contextFiles(name)) as unknown as Readable;
}
