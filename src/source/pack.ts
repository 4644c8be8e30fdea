import { spawn } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { simpleGit } from "simple-git";
import { create } from "tar";

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

/** `git archive` of the commit as a stream that fails, with git's words, when git does. */
function archive(gitDir: string, commit: string, prefix: string): Readable {
  const out = new PassThrough();
  const git = spawn("git", ["-C", gitDir, "archive", "--format=tar", `--prefix=${prefix.replace(/^\/+/, "")}/`, commit], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  git.stderr.on("data", (b: Buffer) => (stderr += b));
  git.stdout.pipe(out, { end: false });
  git.on("error", (err) => out.destroy(err));
  git.on("close", (code) => (code === 0 ? out.end() : out.destroy(new Error(`git archive ${commit}: ${stderr.trim().split("\n")[0] || `exit ${code}`}`))));
  // A copy given up (the engine gone, an interrupt) stops git too.
  out.on("close", () => git.exitCode === null && git.kill());
  return out;
}

/**
 * A commit of a cached bare clone as the build must see it: tar streams to
 * unpack in order at /. First the commit's tree, straight from git's objects
 * (exactly the files git tracks: nothing dropped beside them, and no checkout
 * on this machine to write first); then the repository as the tree's .git,
 * with an index of that tree (made in `scratch`), so the Makefiles' version
 * stamps (`git rev-parse HEAD`, `git status`) see a clean checkout of the tag.
 * The clone's info/attributes (source/fetch.ts) keeps the tree a checkout's;
 * it stays out of the container's .git.
 */
export async function packCommit(gitDir: string, commit: string, prefix: string, scratch: string): Promise<Readable[]> {
  const meta = path.join(scratch, ".git");
  await mkdir(meta, { recursive: true });
  await simpleGit(gitDir).raw(["read-tree", `--index-output=${path.join(meta, "index")}`, commit]);
  await writeFile(path.join(meta, "config"), "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n");
  return [
    archive(gitDir, commit, prefix),
    await packTree(gitDir, path.posix.join(prefix, ".git"), undefined, ["config", "info/attributes"]),
    await packTree(scratch, prefix, [".git"]),
  ];
}
