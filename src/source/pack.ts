import { readdir } from "node:fs/promises";
import type { Readable } from "node:stream";
import { simpleGit } from "simple-git";
import { create } from "tar";

/**
 * A tree as a tar stream rooted at `prefix` (a path inside the build
 * container): the listed entries, or everything in `dir`. Ownership is dropped
 * (`portable`): files then belong to root in the container, which keeps git
 * (safe.directory) from refusing the repository.
 */
export async function packTree(dir: string, prefix: string, entries?: string[]): Promise<Readable> {
  return create({ cwd: dir, prefix: prefix.replace(/^\/+/, ""), portable: true }, entries ?? (await readdir(dir))) as unknown as Readable;
}

/**
 * A checkout as the build must see it: exactly the files git tracks at the
 * commit (and .git, for the Makefiles' version stamps), never a file that was
 * dropped into the working directory beside them (ignored or untracked).
 */
export async function packCheckout(dir: string, prefix: string): Promise<Readable> {
  const tracked = (await simpleGit(dir).raw(["ls-files", "-z"])).split("\0").filter(Boolean);
  return packTree(dir, prefix, [".git", ...tracked]);
}
