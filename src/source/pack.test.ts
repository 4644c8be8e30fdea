import { chmod, chown, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { scratchDir } from "../../test/unit/build-fixtures.js";
import { Parser, type ReadEntry } from "tar";
import { simpleGit } from "simple-git";
import { packCheckout, packTree } from "./pack.js";

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

  it("packs a checkout as its commit: tracked files and .git, never an ignored or untracked file dropped beside them", async () => {
    const git = simpleGit(dir);
    await git.init().addConfig("user.email", "t@example.invalid").addConfig("user.name", "t");
    await writeFile(path.join(dir, ".gitignore"), "*.o\n");
    await mkdir(path.join(dir, "pkg"));
    await writeFile(path.join(dir, "pkg/kmem.go"), "package fs\n");
    await git.add(".").commit("tree");
    await writeFile(path.join(dir, "pkg/kmem_evil.o"), "ignored\n");
    await writeFile(path.join(dir, "pkg/extra.go"), "package fs // untracked\n");

    const paths: string[] = [];
    const parser = new Parser({ onReadEntry: (e: ReadEntry) => (paths.push(e.path), e.resume()) });
    const stream = await packCheckout(dir, "/src");
    await new Promise<void>((resolve, reject) => stream.pipe(parser).on("end", resolve).on("error", reject));

    expect(paths).toContain("src/pkg/kmem.go");
    expect(paths).toContain("src/.gitignore");
    expect(paths.some((p) => p.startsWith("src/.git/") && p.endsWith("HEAD"))).toBe(true);
    expect(paths.filter((p) => /kmem_evil|extra\.go/.test(p))).toEqual([]);
  });
});
