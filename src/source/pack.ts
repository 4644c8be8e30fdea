import { execFile, spawn } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { promisify } from "node:util";
import { create } from "tar";
import { UserError } from "../errors.js";
import { BLOCK, withoutEnd } from "../fs/tar-blocks.js";

/**
 * A tree as a tar stream rooted at `prefix` (a path inside the build
 * container): the listed entries, or everything in `dir` but what `skip`
 * names (paths relative to `dir`). Ownership is dropped (`portable`): files
 * then belong to root in the container, which keeps git (safe.directory) from
 * refusing the repository.
 */
export async function packTree(dir: string, prefix: string, entries?: string[], skip: string[] = []): Promise<Readable> {
  const filter = (p: string) => !skip.includes(p.replace(/^\.\//, ""));
  return create({ cwd: dir, prefix: prefix.replace(/^\/+/, ""), portable: true, filter }, entries ?? (await readdir(dir))) as unknown as Readable;
}

/**
 * The commit's tree as a tar stream, straight from git's objects: exactly the
 * files git tracks, and no checkout on this machine to write first. It fails,
 * with git's words, when git does: the cached clone is damaged, and the user
 * is told to remove it. The clone's info/attributes (source/fetch.ts) keeps
 * the tree a checkout's.
 */
export function packCommitTree(gitDir: string, commit: string, prefix: string): Readable {
  const out = new PassThrough();
  const git = spawn("git", ["-C", gitDir, "archive", "--format=tar", `--prefix=${prefix.replace(/^\/+/, "")}/`, commit], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  git.stderr.on("data", (b: Buffer) => (stderr += b));
  git.stdout.pipe(out, { end: false });
  git.on("error", (err) => out.destroy(err));
  const damaged = (code: number | null) =>
    new UserError(`the cached source ${gitDir} is damaged (git archive ${commit}: ${stderr.trim().split("\n")[0] || `exit ${code}`}): remove that directory and run again`);
  git.on("close", (code) => (code === 0 ? out.end() : out.destroy(damaged(code))));
  // A copy given up (the engine gone, an interrupt) stops git too.
  out.on("close", () => git.exitCode === null && git.kill());
  return out;
}

/**
 * A commit of a cached bare clone as a checkout, for builds that read git:
 * tar streams to unpack in order at /. The commit's tree, then the repository
 * as the tree's .git, with an index of that tree (made in `scratch`), so the
 * Makefiles' version stamps (`git rev-parse HEAD`, `git status`) see a clean
 * checkout of the tag. The clone's info/attributes stays out of that .git.
 */
export async function packCheckout(gitDir: string, commit: string, prefix: string, scratch: string): Promise<Readable[]> {
  const meta = path.join(scratch, ".git");
  await mkdir(meta, { recursive: true });
  // Not through simple-git: it waits 50 ms after any command that prints nothing, as read-tree does.
  await promisify(execFile)("git", ["-C", gitDir, "read-tree", `--index-output=${path.join(meta, "index")}`, commit]).catch((err: { stderr?: string }) => {
    throw new Error(`git read-tree ${commit}: ${err.stderr?.trim().split("\n")[0] || String(err)}`);
  });
  await writeFile(path.join(meta, "config"), "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n");
  const repository = await packTree(gitDir, path.posix.join(prefix, ".git"), undefined, ["config", "info/attributes"]);
  const index = await packTree(scratch, prefix, [".git"]);
  // git archive starts at once: made last, so that no wait falls between it and its reader.
  return [packCommitTree(gitDir, commit, prefix), repository, index];
}

/**
 * Tar streams joined into one archive, unpacked by the engine in one request
 * (each copy into a container costs a helper process: ~50 ms apiece). Each
 * part's end-of-archive marker is dropped and one ends the whole; entries
 * pass through byte for byte. Written here because tar libraries join
 * archives by decoding and re-encoding every entry.
 */
export function joinTars(parts: Readable[]): Readable {
  // A part that fails before it is read (git archive on a damaged clone) keeps its error for the
  // moment it is reached, which fails the whole; unheard, its 'error' event would end the process.
  for (const part of parts) part.on("error", () => undefined);
  async function* join(): AsyncGenerator<Buffer> {
    try {
      for (const part of parts) yield* withoutEnd(part);
      yield Buffer.alloc(2 * BLOCK);
    } finally {
      // Given up half-way (the engine gone, an interrupt): the parts not read stop too (git archive).
      for (const part of parts) part.destroy();
    }
  }
  return Readable.from(join(), { objectMode: false });
}
