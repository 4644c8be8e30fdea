import { spawnSync } from "node:child_process";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { create } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLOCK, whole, withoutEnd } from "./tar-blocks.js";

/** Every generator output, and its return value. */
async function walk(bytes: Buffer, size: number): Promise<{ out: Buffer; ended: boolean; chunks: number }> {
  const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  const gen = withoutEnd(Readable.from(chunks));
  const out: Buffer[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { out: Buffer.concat(out), ended: r.value, chunks: out.length };
    out.push(r.value);
  }
}

describe("tar streams block by block", () => {
  let dir: string;
  let archive: Buffer;
  const sizes = [0, 1, 511, 512, 513, 5000];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "tar-blocks-"));
    await mkdir(path.join(dir, "t/sub"), { recursive: true });
    for (const n of sizes) await writeFile(path.join(dir, "t/sub", `f${n}`), Buffer.alloc(n, n % 251));
    await symlink("sub/f1", path.join(dir, "t/link"));
    const parts: Buffer[] = [];
    for await (const b of create({ cwd: dir, portable: true }, ["t"]) as unknown as AsyncIterable<Buffer>) parts.push(b);
    archive = Buffer.concat(parts);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("passes every block before the end-of-archive marker, however the chunks are cut, one buffer per chunk", async () => {
    const reference = await walk(archive, archive.length);
    expect(reference.ended).toBe(true);
    expect(reference.out.length % BLOCK).toBe(0);
    expect(reference.out.equals(archive.subarray(0, reference.out.length))).toBe(true);
    expect(archive.subarray(reference.out.length).every((b) => b === 0)).toBe(true);
    for (const size of [1, 7, 100, 511, 512, 513, 1000, 4096]) {
      const r = await walk(archive, size);
      expect(r.ended, `chunks of ${size}`).toBe(true);
      expect(r.out.equals(reference.out), `chunks of ${size}`).toBe(true);
      expect(r.chunks).toBeLessThanOrEqual(Math.ceil(archive.length / size));
    }
    // What came out, with one end marker, is the whole archive to tar.
    const file = path.join(dir, "out.tar");
    await writeFile(file, Buffer.concat([reference.out, Buffer.alloc(2 * BLOCK)]));
    const listed = spawnSync("tar", ["-tvf", file], { encoding: "utf8" });
    expect(listed.status).toBe(0);
    for (const n of sizes) expect(listed.stdout).toMatch(new RegExp(` ${n} .* t/sub/f${n}\\n`));
    expect(listed.stdout).toContain("t/link -> sub/f1");
  });

  it("says an archive cut short (after a header, inside data, or inside a header) never ended, and `whole` fails it", async () => {
    const ended = (await walk(archive, archive.length)).out.length;
    for (const cut of [BLOCK, BLOCK + 100, 3 * BLOCK + 17, ended]) {
      const r = await walk(archive.subarray(0, cut), 64);
      expect(r.ended, `cut at ${cut}`).toBe(false);
      await expect(Readable.from(whole(Readable.from([archive.subarray(0, cut)]))).toArray()).rejects.toThrow(/without its end-of-archive marker/);
    }
    const all = Buffer.concat(await Readable.from(whole(Readable.from([archive]))).toArray());
    expect(all.equals(Buffer.concat([archive.subarray(0, ended), Buffer.alloc(2 * BLOCK)]))).toBe(true);
  });
});
