import { createWriteStream, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { Readable } from "node:stream";
import { chmod, chown, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { scratchDir } from "../../test/unit/build-fixtures.js";
import { Parser, extract, type ReadEntry } from "tar";
import { simpleGit } from "simple-git";
import { fetchSource } from "./fetch.js";
import { joinTars, packCheckout, packCommitTree, packTree } from "./pack.js";

let dir: string;
beforeEach(async () => {
  dir = await scratchDir("pack");
});

describe("packing the source for the build container", () => {
  it("roots entries at the container path, keeps modes, and drops ownership (git safe.directory)", async () => {
    await mkdir(path.join(dir, "script"));
    await writeFile(path.join(dir, "script/check.sh"), "#!/bin/sh\n");
    await chmod(path.join(dir, "script/check.sh"), 0o755);
    await writeFile(path.join(dir, "main.go"), "package main\n");
    // Owned by another user, as a checkout by an unprivileged user would be.
    if (process.getuid?.() === 0) await chown(path.join(dir, "main.go"), 4242, 4242);

    const entries: Array<{ path: string; mode: number; uid: number | undefined }> = [];
    const parser = new Parser({ onReadEntry: (e: ReadEntry) => (entries.push({ path: e.path, mode: e.mode ?? 0, uid: e.uid }), e.resume()) });
    const stream = await packTree(dir, "/go/src/github.com/opencontainers/runc");
    await new Promise<void>((resolve, reject) => stream.pipe(parser).on("end", resolve).on("error", reject));

    const main = entries.find((e) => e.path.endsWith("main.go"))!;
    expect(main.path).toBe("go/src/github.com/opencontainers/runc/main.go");
    expect(main.uid ?? 0).toBe(0);
    expect(entries.find((e) => e.path.endsWith("check.sh"))!.mode & 0o111).toBe(0o111);
  });

  it("packs a bare clone's commit as a clean checkout of it: tracked files as checked out, .git with its index, never a file dropped beside them", async () => {
    const upstream = path.join(dir, "upstream");
    await mkdir(path.join(upstream, "pkg"), { recursive: true });
    const git = simpleGit(upstream);
    await git.init().addConfig("user.email", "t@example.invalid").addConfig("user.name", "t");
    // Attributes that would make `git archive` differ from a checkout.
    await writeFile(path.join(upstream, ".gitattributes"), "pkg/version.go export-subst\nhack/ export-ignore\n");
    await writeFile(path.join(upstream, "pkg/version.go"), "package pkg\n\nconst commit = \"$Format:%H$\"\n");
    await mkdir(path.join(upstream, "hack"));
    await writeFile(path.join(upstream, "hack/build.sh"), "#!/bin/sh\n");
    await chmod(path.join(upstream, "hack/build.sh"), 0o755);
    await git.add(".").commit("tree");
    await git.addTag("v1");
    // The cache as fetchSource makes it: the clone packCheckout expects.
    const { dir: bare, commit } = await fetchSource({ component: "runc", tag: "v1", source: upstream, pinnedCommit: undefined, allowUnpinned: true, requirePins: false, cacheDir: path.join(dir, "cache") });
    await mkdir(path.join(bare, "pkg"));
    await writeFile(path.join(bare, "pkg/extra.go"), "package pkg // dropped into the cache\n");

    const out = path.join(dir, "container");
    await mkdir(out);
    for (const stream of await packCheckout(bare, commit, "/go/src/example", path.join(dir, "scratch"))) {
      await pipeline(stream, extract({ cwd: out }));
    }
    const tree = path.join(out, "go/src/example");
    expect(await readFile(path.join(tree, "pkg/version.go"), "utf8")).toContain("$Format:%H$");
    expect((await stat(path.join(tree, "hack/build.sh"))).mode & 0o111).toBe(0o111);
    expect(existsSync(path.join(tree, "pkg/extra.go"))).toBe(false);
    // What the Makefiles ask: the commit, and a clean tree.
    expect((await simpleGit(tree).revparse(["HEAD"])).trim()).toBe(commit);
    expect(await simpleGit(tree).raw(["-c", "safe.directory=*", "status", "--porcelain"])).toBe("");

    // A build whose stamp comes from its environment gets the same tree and no .git.
    const plain = path.join(dir, "plain");
    await mkdir(plain);
    await pipeline(packCommitTree(bare, commit, "/src"), extract({ cwd: plain }));
    expect(await readFile(path.join(plain, "src/pkg/version.go"), "utf8")).toContain("$Format:%H$");
    expect(existsSync(path.join(plain, "src/hack/build.sh"))).toBe(true);
    expect(existsSync(path.join(plain, "src/.git"))).toBe(false);
  });

  it("fails with git's words when the commit is not in the clone", async () => {
    const bare = path.join(dir, "empty");
    await simpleGit().init(true, [bare]);
    await expect(packCheckout(bare, "0".repeat(40), "/src", path.join(dir, "scratch"))).rejects.toThrow(/failed to unpack tree object 0{40}/);
    await expect(pipeline(packCommitTree(bare, "0".repeat(40), "/src"), extract({ cwd: dir }))).rejects.toThrow(/git archive 0{40}: fatal: /);
  });

  it("joins tar streams into one archive that a reader stopping at the first end-of-archive unpacks whole, later entries over earlier ones", async () => {
    const upstream = path.join(dir, "joined-upstream");
    await mkdir(path.join(upstream, "pkg"), { recursive: true });
    const git = simpleGit(upstream);
    await git.init().addConfig("user.email", "t@example.invalid").addConfig("user.name", "t");
    // Data blocks of zeros inside the first part must not read as its end; sizes on and off the block edge.
    await writeFile(path.join(upstream, "zeros.bin"), Buffer.alloc(1024));
    await writeFile(path.join(upstream, "pkg/odd.go"), "x".repeat(513));
    await writeFile(path.join(upstream, "pkg/empty.go"), "");
    await writeFile(path.join(upstream, "pkg/memory.go"), "pristine\n");
    await git.add(".").commit("tree");
    const overlay = path.join(dir, "overlay");
    await mkdir(path.join(overlay, "pkg"), { recursive: true });
    await writeFile(path.join(overlay, "pkg/memory.go"), "patched\n");
    const tar = path.join(dir, "joined.tar");
    const commit = (await git.revparse(["HEAD"])).trim();
    await pipeline(joinTars([packCommitTree(upstream, commit, "/src"), await packTree(overlay, "/src")]), createWriteStream(tar));

    // GNU tar without --ignore-zeros stops at the first end-of-archive marker, as the engine's reader does.
    const out = path.join(dir, "unpacked");
    await mkdir(out);
    const r = spawnSync("tar", ["-xf", tar, "-C", out], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(await readFile(path.join(out, "src/zeros.bin"))).toEqual(Buffer.alloc(1024));
    expect(await readFile(path.join(out, "src/pkg/odd.go"), "utf8")).toBe("x".repeat(513));
    expect(await readFile(path.join(out, "src/pkg/empty.go"), "utf8")).toBe("");
    expect(await readFile(path.join(out, "src/pkg/memory.go"), "utf8")).toBe("patched\n");
    // One marker, at the end: nothing after it.
    const bytes = await readFile(tar);
    expect(bytes.length % 512).toBe(0);
    expect(bytes.subarray(-1024).every((b) => b === 0)).toBe(true);
    const listed = spawnSync("tar", ["-tf", tar], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    expect(listed.filter((p) => p === "src/pkg/memory.go")).toHaveLength(2);
  });

  it("a part that fails fails the joined stream, and the parts not yet read are stopped", async () => {
    const broken = new Readable({ read() { this.destroy(new Error("git archive 0000: fatal: not a tree object")); } });
    const unread = Readable.from([Buffer.alloc(512)]);
    await expect(pipeline(joinTars([broken, unread]), extract({ cwd: dir }))).rejects.toThrow(/git archive 0000: fatal/);
    expect(unread.destroyed).toBe(true);
  });
});
