import { readdir } from "node:fs/promises";
import type { Readable } from "node:stream";
import { create } from "tar";

/**
 * The source tree as a tar stream rooted at `prefix` (a path inside the build
 * container). Ownership is dropped (`portable`): files then belong to root in
 * the container, which keeps git (safe.directory) from refusing the repository.
 */
export async function packSource(dir: string, prefix: string): Promise<Readable> {
  const entries = await readdir(dir);
  return create({ cwd: dir, prefix: prefix.replace(/^\/+/, ""), portable: true }, entries) as unknown as Readable;
}
