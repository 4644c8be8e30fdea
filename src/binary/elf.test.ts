import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotElfError, parseElfLinkage, type ElfLinkage } from "./elf.js";

const readElfLinkage = async (f: string) => parseElfLinkage(await readFile(f), f);
import { checkGlibc } from "./glibc.js";

const run = promisify(execFile);
const readelf = async (...args: string[]) => (await run("readelf", ["-W", ...args])).stdout;

// Needs libc and libm (kept by --no-as-needed) through versioned functions, and
// stdout, a data symbol the executable defines by copy relocation yet still versions.
const PROGRAM = `#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  printf("%f\\n", cos(argc));
  return atoi(argc > 1 ? argv[1] : "0") + (stdout == NULL);
}
`;

const SOURCES = { "program.c": PROGRAM, "start.c": "void _start(void) {\n  for (;;)\n    ;\n}\n" };

interface Binary {
  /** cc's arguments, in the folder holding SOURCES; none for a binary the system ships. */
  cc?: string[];
  interpreter: boolean;
  libc: boolean;
  static: boolean;
}

const BINARIES: Record<string, Binary> = {
  dynamic: { cc: ["program.c", "-Wl,--no-as-needed", "-lm"], interpreter: true, libc: true, static: false },
  static: { cc: ["program.c", "-static", "-lm"], interpreter: false, libc: false, static: true },
  // Has a dynamic section and .dynsym, but no interpreter and no libraries.
  "static-pie": { cc: ["program.c", "-static-pie", "-lm"], interpreter: false, libc: false, static: true },
  // Libraries but no interpreter: not static.
  "shared-library": { cc: ["program.c", "-shared", "-fPIC", "-lm"], interpreter: false, libc: true, static: false },
  // An interpreter but no libraries: not static either.
  "no-libraries": { cc: ["start.c", "-nostdlib", "-pie", "-fPIE"], interpreter: true, libc: false, static: false },
  "/bin/ls": { interpreter: true, libc: true, static: false },
};

let dir: string;
const file = (name: string) => (BINARIES[name]!.cc ? path.join(dir, name) : name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "elf-test-"));
  for (const [name, text] of Object.entries(SOURCES)) await writeFile(path.join(dir, name), text);
  await Promise.all(
    Object.entries(BINARIES)
      .filter(([, b]) => b.cc)
      .map(([name, b]) => run("cc", ["-o", name, ...b.cc!], { cwd: dir })),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** readelf's account of what parseElfLinkage reads, but for `static`. */
async function linkageByReadelf(bin: string): Promise<Omit<ElfLinkage, "static">> {
  const [program, dynamic, symbols, versions, sectionTable] = await Promise.all([
    readelf("-l", bin),
    readelf("-d", bin),
    readelf("--dyn-syms", bin),
    readelf("-V", bin),
    readelf("-S", bin),
  ]);
  // Version index -> name, for the versions the binary needs (not those it defines).
  const needs = new Map([...versions.matchAll(/Name: (\S+)\s+Flags: \S+\s+Version: (\d+)/g)].map((m) => [m[2]!, m[1]!]));
  const versionedSymbols = [...symbols.matchAll(/^\s*\d+:.* ([^\s@]+)@(\S+) \((\d+)\)$/gm)]
    .filter((m) => needs.get(m[3]!) === m[2])
    .map((m) => ({ symbol: m[1]!, version: m[2]! }));
  const sections = [...sectionTable.matchAll(/^\s*\[\s*(\d+)\] (.*)$/gm)].flatMap((m) => {
    const fields = m[2]!.trim().split(/\s+/);
    const name = m[1] === "0" ? "" : fields.shift()!;
    const [type, address, offset, size] = fields;
    return type === "NOBITS" ? [] : [{ name, addr: parseInt(address!, 16), offset: parseInt(offset!, 16), size: parseInt(size!, 16) }];
  });
  return {
    interpreter: program.match(/\[Requesting program interpreter: (.+)\]/)?.[1],
    needed: [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g)].map((m) => m[1]!),
    versionedSymbols,
    sections,
  };
}

describe("ELF linkage", () => {
  it.each(Object.keys(BINARIES))("reads %s as readelf does: interpreter, libraries, versioned symbols, sections", async (name) => {
    const binary = BINARIES[name]!;
    const expected = await linkageByReadelf(file(name));
    expect(await readElfLinkage(file(name))).toEqual({ ...expected, static: binary.static });
    // readelf was read right, so the comparison above compared something.
    expect(expected.interpreter !== undefined).toBe(binary.interpreter);
    expect(expected.needed.includes("libc.so.6")).toBe(binary.libc);
    expect(expected.versionedSymbols.some((s) => s.version.startsWith("GLIBC_2"))).toBe(binary.libc);
    expect(expected.sections.map((s) => s.name)).toEqual(expect.arrayContaining(["", ".text"]));
  });

  it("reads the libm and libc version needs and the copy-relocated stdout of the program built here", async () => {
    const elf = await readElfLinkage(file("dynamic"));
    expect(elf.needed).toEqual(["libm.so.6", "libc.so.6"]);
    const versioned = new Map(elf.versionedSymbols.map((s) => [s.symbol, s.version]));
    for (const symbol of ["cos", "printf", "atoi", "stdout", "__libc_start_main"]) expect(versioned.get(symbol)).toMatch(/^GLIBC_2\./);
  });

  it("flags the symbols that need a glibc newer than the target, and passes at the newest glibc needed", async () => {
    const elf = await readElfLinkage(file("dynamic"));
    const glibc = (await linkageByReadelf(file("dynamic"))).versionedSymbols.filter((s) => s.version.startsWith("GLIBC_2"));
    const versions = [...new Set(glibc.map((s) => s.version))].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    // Against glibc 2.34 or later __libc_start_main needs GLIBC_2.34, printf an older version.
    expect(versions.length).toBeGreaterThanOrEqual(2);
    const newest = versions.at(-1)!;
    const below = versions.at(-2)!.slice("GLIBC_".length);
    expect(checkGlibc(elf, below)).toEqual({
      ok: false,
      linkage: "dynamic",
      maxGlibc: newest.slice("GLIBC_".length),
      tooNew: glibc.filter((s) => s.version === newest).map((s) => `${s.symbol}@${s.version}`),
    });
    expect(checkGlibc(elf, newest.slice("GLIBC_".length))).toMatchObject({ ok: true, linkage: "dynamic", tooNew: [] });
  });

  it.each(["static", "static-pie"] as const)("passes the %s build on any glibc", async (name) => {
    const elf = await readElfLinkage(file(name));
    expect(checkGlibc(elf, "2.0")).toEqual({ ok: true, linkage: "static", maxGlibc: undefined, tooNew: [] });
  });

  it("refuses what is not a 64-bit little-endian ELF", async () => {
    expect(() => parseElfLinkage(Buffer.from("#!/bin/sh\necho hi\n".padEnd(80)), "script")).toThrow(NotElfError);
    const elf = await readFile(file("dynamic"));
    expect(() => parseElfLinkage(elf, "program")).not.toThrow();
    const ELFCLASS32 = [4, 1] as const;
    const ELFDATA2MSB = [5, 2] as const;
    for (const [at, value] of [ELFCLASS32, ELFDATA2MSB]) {
      const other = Buffer.from(elf);
      other[at] = value;
      expect(() => parseElfLinkage(other, "program")).toThrow(NotElfError);
      expect(() => parseElfLinkage(other, "program")).toThrow("program is not a 64-bit little-endian ELF binary");
    }
  });
});
