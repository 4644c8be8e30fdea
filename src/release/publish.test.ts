import { execFile } from "node:child_process";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import { scratchDir } from "../../test/unit/build-fixtures.js";
import { ArtifactList } from "./artifact-list.js";
import { publishArtifacts } from "./publish.js";

let dir: string;
beforeEach(async () => {
  dir = await scratchDir("publish");
});

describe("publishing artifacts", () => {
  it("writes every file, a SHA256SUMS that sha256sum -c accepts, and no temp files", async () => {
    const staging = path.join(dir, "staging");
    const out = path.join(dir, "out", "nested");
    await rm(staging, { recursive: true, force: true });
    await writeFile(path.join(dir, "a"), "binary\n");
    await writeFile(path.join(dir, "b.json"), "{}\n");
    await writeFile(path.join(dir, "SHA256SUMS-old"), "");
    const list = new ArtifactList();
    list.add("binary", path.join(dir, "a"), "runc-x");
    list.add("manifest", path.join(dir, "b.json"), "runc-x.json");
    expect(await publishArtifacts(out, list.all())).toEqual(["runc-x", "runc-x.json", "SHA256SUMS"]);
    expect((await readdir(out)).sort()).toEqual(["SHA256SUMS", "runc-x", "runc-x.json"]);
    await promisify(execFile)("sha256sum", ["-c", "SHA256SUMS"], { cwd: out });

    // A second publish merges into the same SHA256SUMS.
    await writeFile(path.join(dir, "k"), "kubelet\n");
    const second = new ArtifactList();
    second.add("binary", path.join(dir, "k"), "kubelet-x");
    await publishArtifacts(out, second.all());
    const sums = await readFile(path.join(out, "SHA256SUMS"), "utf8");
    expect(sums.split("\n").filter(Boolean).map((l) => l.split("  ")[1])).toEqual(["kubelet-x", "runc-x", "runc-x.json"]);
  });

  it("refuses duplicate and non-flat artifact names", () => {
    const list = new ArtifactList();
    list.add("binary", "/x/runc");
    expect(() => list.add("binary", "/y/runc")).toThrow(/added twice/);
    expect(() => list.add("log", "/y/z", "../z")).toThrow(/plain file name/);
  });

  it("loses no SHA256SUMS update when separate processes publish into one directory at once", async () => {
    const out = path.join(dir, "shared");
    const script = fileURLToPath(new URL("../../test/fixtures/publish-many.ts", import.meta.url));
    const tsx = path.join(process.cwd(), "node_modules/.bin/tsx");
    await Promise.all(["a", "b", "c"].map((who) => promisify(execFile)(tsx, [script, out, dir, who])));
    const names = (await readFile(path.join(out, "SHA256SUMS"), "utf8")).split("\n").filter(Boolean).map((l) => l.split("  ")[1]);
    expect(names).toHaveLength(18);
    await promisify(execFile)("sha256sum", ["-c", "--quiet", "SHA256SUMS"], { cwd: out });
    expect((await readdir(out)).filter((n) => n.startsWith("."))).toEqual([]);
  });
});
