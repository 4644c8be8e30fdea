import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Readable } from "node:stream";
import { create } from "tar";

/** containers/ ships beside lib/ and src/ in the package. */
const CONTAINERS_DIR = fileURLToPath(new URL("../../containers/", import.meta.url));

export type ContainerRecipe = "builder" | "go-debian";

export async function dockerfileHash(name: ContainerRecipe): Promise<string> {
  const text = await readFile(`${CONTAINERS_DIR}${name}/Dockerfile`);
  return createHash("sha256").update(text).digest("hex");
}

/** The build context of containers/<name>/ as a tar stream for the engine. */
export function buildContext(name: ContainerRecipe): Readable {
  return create({ cwd: `${CONTAINERS_DIR}${name}`, portable: true }, ["Dockerfile"]) as unknown as Readable;
}
