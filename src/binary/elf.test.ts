import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { NotElfError, parseElfLinkage, readElfLinkage } from "./elf.js";
import { checkGlibc } from "./glibc.js";

const run = promisify(execFile);

describe("ELF linkage", () => {
  it("reads a dynamic binary's interpreter, libraries and glibc symbol versions as readelf does", async () => {
    const bin = "/bin/ls";
    const elf = await readElfLinkage(bin);
    expect(elf.static).toBe(false);
    expect(elf.interpreter).toMatch(/ld-linux/);
    const { stdout: dynamic } = await run("readelf", ["-dW", bin]);
    const needed = [...dynamic.matchAll(/\(NEEDED\).*\[(.+)\]/g)].map((m) => m[1]);
    expect(elf.needed).toEqual(needed);
    const { stdout: versions } = await run("readelf", ["-VW", bin]);
    const glibcNeeded = new Set([...versions.matchAll(/Name: (GLIBC_2\.[\d.]+)/g)].map((m) => m[1]));
    expect(new Set(elf.versionedSymbols.map((s) => s.version).filter((v) => v.startsWith("GLIBC_2")))).toEqual(glibcNeeded);
  });

  it("names sections as readelf does", async () => {
    const { stdout } = await run("readelf", ["-SW", "/bin/ls"]);
    const names = (await readElfLinkage("/bin/ls")).sections.map((sec) => sec.name);
    for (const n of [".text", ".rodata", ".dynstr", ".gnu.version_r"]) {
      expect(stdout).toContain(` ${n} `);
      expect(names).toContain(n);
    }
  });

  it("flags a binary built against a newer glibc, naming the symbols", async () => {
    const verdict = checkGlibc(await readElfLinkage("/bin/ls"), "2.17");
    expect(verdict.ok).toBe(false);
    expect(verdict.tooNew.every((s) => /@GLIBC_2\.(1[89]|[2-9]\d)/.test(s))).toBe(true);
    expect(checkGlibc(await readElfLinkage("/bin/ls"), "2.99").ok).toBe(true);
  });

  it("treats a binary with no interpreter and no libraries as static", () => {
    expect(checkGlibc({ interpreter: undefined, needed: [], versionedSymbols: [], static: true, sections: [] })).toMatchObject({ ok: true, linkage: "static" });
  });

  it("refuses what is not a 64-bit ELF", async () => {
    expect(() => parseElfLinkage(Buffer.from("#!/bin/sh\necho hi\n".padEnd(80)), "script")).toThrow(NotElfError);
    const elf = await readFile("/bin/ls");
    const elf32 = Buffer.from(elf);
    elf32[4] = 1;
    expect(() => parseElfLinkage(elf32, "ls32")).toThrow(/not a 64-bit little-endian ELF/);
  });
});
