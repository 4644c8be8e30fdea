/**
 * lib/cli.js runs the bundle from V8's code cache under <cache dir>/startup:
 * written by a command's first successful run, taken as it is by the next one
 * (a cache V8 refused would be written again), never taken when others may
 * write it, and never in the way of the command itself.
 */
import { chmod, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cli, removeDir, tempDir } from "../helpers.js";

let dir: string;
beforeEach(async () => {
  dir = await tempDir("startup");
});
afterEach(() => removeDir(dir));

const startup = () => path.join(dir, "startup");
const files = async () => (await readdir(startup()).catch(() => [] as string[])).sort();
/** The one cache file of a command, with what identifies this very file and its bytes. */
async function cacheOf(command: string) {
  const names = (await files()).filter((n) => n.includes(`-${command}-v8-`));
  expect(names).toHaveLength(1);
  const file = path.join(startup(), names[0]!);
  const st = await stat(file);
  return { file, ino: st.ino, mode: st.mode & 0o777, bytes: await readFile(file) };
}

describe("the start-up code cache", () => {
  it("is written by a command's first run and taken unchanged by the next; one V8 refuses (other flags) or damaged is written again", async () => {
    const first = await cli(["versions"], { NOKMEM_BUILD_CACHE_DIR: dir });
    expect(first.code).toBe(0);
    const written = await cacheOf("versions");
    expect(written.mode).toBe(0o600);
    expect(written.bytes.length).toBeGreaterThan(100_000);

    // Taken: a cache V8 accepts is not written again, so the file is the same file.
    const second = await cli(["versions"], { NOKMEM_BUILD_CACHE_DIR: dir });
    expect(second).toEqual(first);
    const after = await cacheOf("versions");
    expect(after.ino).toBe(written.ino);
    expect(after.bytes.equals(written.bytes)).toBe(true);

    // Other V8 flags: V8 refuses the cache, and the run leaves one for its flags, which the next such run takes.
    const flags = { NOKMEM_BUILD_CACHE_DIR: dir, NODE_OPTIONS: "--max-old-space-size=300" };
    expect(await cli(["versions"], flags)).toEqual(first);
    const forFlags = await cacheOf("versions");
    expect(forFlags.ino).not.toBe(written.ino);
    expect(await cli(["versions"], flags)).toEqual(first);
    expect((await cacheOf("versions")).ino).toBe(forFlags.ino);

    // Damaged: not given to V8 (which does not check the bytes: it aborted Node), rebuilt by the run.
    const damaged = Buffer.from(written.bytes);
    damaged.fill(0x5a, 64, 4096);
    await writeFile(written.file, damaged);
    const third = await cli(["versions"], { NOKMEM_BUILD_CACHE_DIR: dir });
    expect(third).toEqual(first);
    const rewritten = await cacheOf("versions");
    expect(rewritten.bytes.equals(damaged)).toBe(false);
    const fourth = await cli(["versions"], { NOKMEM_BUILD_CACHE_DIR: dir });
    expect(fourth).toEqual(first);
    expect((await cacheOf("versions")).ino).toBe(rewritten.ino);
  });

  it("follows --cache-dir, one file per command, and shows up in cache list (and goes with cache prune)", async () => {
    const other = path.join(dir, "given");
    expect((await cli(["runc", "--help", "--cache-dir", other], { NOKMEM_BUILD_CACHE_DIR: dir })).code).toBe(0);
    expect(await files()).toEqual([]);
    expect((await readdir(path.join(other, "startup"))).filter((n) => n.includes("-runc-v8-"))).toHaveLength(1);

    expect((await cli(["--version"], { NOKMEM_BUILD_CACHE_DIR: dir })).code).toBe(0);
    expect((await cli(["versions"], { NOKMEM_BUILD_CACHE_DIR: dir })).code).toBe(0);
    expect((await files()).map((n) => n.replace(/^[0-9a-f]{16}-/, "").replace(/-v8-.*$/, ""))).toEqual(["-", "versions"]);
    // The engine may be away here: the directories are listed and pruned all the same.
    // prune first of the cache commands: it must not leave its own cache behind.
    expect((await cli(["cache", "prune", "--cache-dir", dir, "--json"])).code).toBe(0);
    expect(await files()).toEqual([]);
    expect((await cli(["--version"], { NOKMEM_BUILD_CACHE_DIR: dir })).code).toBe(0);
    expect((await cli(["versions"], { NOKMEM_BUILD_CACHE_DIR: dir })).code).toBe(0);
    const listed = JSON.parse((await cli(["cache", "list", "--cache-dir", dir, "--json"])).stdout);
    expect(listed.entries.filter((e: { kind: string }) => e.kind === "startup")).toEqual([
      expect.objectContaining({ name: startup(), detail: "V8 code cache of 2 command(s), for a faster start" }),
    ]);
    await cli(["cache", "prune", "--cache-dir", dir, "--json"]);
    expect(await files()).toEqual([]);
  });

  it("is written only after success, never taken when others may write it, and a cache directory that takes no writes changes nothing", async () => {
    const refused = await cli(["versions", "--no-such-flag"], { NOKMEM_BUILD_CACHE_DIR: dir });
    expect(refused.code).toBe(2);
    expect(await files()).toEqual([]);

    expect((await cli(["versions"], { NOKMEM_BUILD_CACHE_DIR: dir })).code).toBe(0);
    const safe = await cacheOf("versions");
    // Group-writable: someone else could have put code there, so it is neither run nor kept.
    await chmod(safe.file, 0o620);
    expect((await cli(["versions"], { NOKMEM_BUILD_CACHE_DIR: dir })).code).toBe(0);
    const replaced = await cacheOf("versions");
    expect(replaced.mode).toBe(0o600);
    expect(replaced.ino).not.toBe(safe.ino);

    // A file where the cache directory should be: the command runs, says nothing about it, writes nothing.
    const blocked = path.join(dir, "blocked");
    await mkdir(blocked);
    await writeFile(path.join(blocked, "startup"), "not a directory");
    const ran = await cli(["versions"], { NOKMEM_BUILD_CACHE_DIR: blocked });
    expect(ran.code).toBe(0);
    expect(ran.stderr).toBe("");
    expect(ran.stdout).toContain("| runc |");
    expect(await readFile(path.join(blocked, "startup"), "utf8")).toBe("not a directory");
  });
});
