import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { UsageError } from "../errors.js";
import { NotElfError, parseElfLinkage, type ElfLinkage } from "./elf.js";

/**
 * What kmem code a Go binary carries, read from its pclntab (file and function
 * names, which survive `strip`) and its read-only strings. A function that only
 * returns nil leaves no code behind once inlined, so "disabled" code is not
 * always visible; code that *enables* kmem accounting always is.
 */
export type KmemCode =
  | "enabled" // kmem.go compiled in: built without the nokmem tag
  | "pre-split" // EnableKernelMemoryAccounting/setKernelMemory from memory.go (runc < rc6, kubelet < 1.14)
  | "disabled" // kmem_disabled.go, or its "disabled in this runc build" error, compiled in
  | "no-kmem-code" // runc's memory cgroup code without any function that enables kmem accounting
  | "no-runc-code"; // not a runc-based binary

export interface GoBinary {
  elf: ElfLinkage;
  /** runc or kubelet, from the main package's source file; undefined for other programs. */
  component: "runc" | "kubelet" | undefined;
  goVersion: string | undefined;
  /** sha256 of the file, from the same read. */
  sha256: string;
  kmem: KmemCode;
  /** The name in the binary the verdict rests on. */
  evidence: string;
}

const FS = "/libcontainer/cgroups/fs";
// runc rc7..rc93 kmem_disabled.go: setKernelMemory's error text.
const DISABLED_ERROR = "kernel memory accounting disabled in this runc build";

/** Reads a file and tells whether it is a Go binary, and which kmem implementation it compiled in. */
export async function inspectGoBinary(file: string): Promise<GoBinary> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    throw new UsageError(`${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
  let elf: ElfLinkage;
  try {
    elf = parseElfLinkage(buf, file);
  } catch (err) {
    if (err instanceof NotElfError) throw new UsageError(`${file} is not a Go binary (not an ELF executable)`);
    throw err;
  }
  const section = (name: string) => elf.sections.find((s) => s.name === name);
  const pclntab = section(".gopclntab");
  const buildinfo = section(".go.buildinfo");
  if (!pclntab && !buildinfo) throw new UsageError(`${file} is not a Go binary (no Go runtime tables)`);

  // Names are NUL-terminated strings in the pclntab's file and function tables.
  const table = pclntab ? buf.subarray(pclntab.offset, pclntab.offset + pclntab.size) : buf;
  const has = (name: string) => table.includes(`${name}\0`);
  const goVersion = buildinfo
    ? buf.subarray(buildinfo.offset, buildinfo.offset + buildinfo.size).toString("latin1").match(/go1\.\d+(?:\.\d+)?/)?.[0]
    : undefined;

  const component = has("/cmd/kubelet/kubelet.go") ? "kubelet" : has("/opencontainers/runc/main.go") ? "runc" : undefined;
  const sha256 = createHash("sha256").update(buf).digest("hex");
  const result = (kmem: KmemCode, evidence: string): GoBinary => ({ elf, component, goVersion, sha256, kmem, evidence });
  if (has(`${FS}/kmem.go`)) return result("enabled", "libcontainer/cgroups/fs/kmem.go is compiled in (built without the nokmem tag)");
  if (has(`${FS}/kmem_disabled.go`)) return result("disabled", "libcontainer/cgroups/fs/kmem_disabled.go is compiled in (nokmem build tag)");
  if (buf.includes(DISABLED_ERROR)) return result("disabled", `the nokmem build's error "${DISABLED_ERROR}" is compiled in`);
  // Neither kmem file: kmem functions that remain come from memory.go, from before the split.
  const fn = ["EnableKernelMemoryAccounting", "setKernelMemory"].find((f) => has(`${FS}.${f}`));
  if (fn) return result("pre-split", `libcontainer/cgroups/fs.${fn} from memory.go is compiled in (runc code from before the nokmem tag)`);
  if (has(`${FS}/memory.go`)) {
    return result("no-kmem-code", "runc's memory cgroup code is compiled in without any function that enables kmem accounting");
  }
  return result("no-runc-code", "no runc cgroup code is compiled in");
}
