import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { UsageError } from "../errors.js";
import { NotElfError, parseElfLinkage, type ElfLinkage, type ElfSection } from "./elf.js";
import { goFunctionSizes } from "./go-functions.js";

/**
 * What kmem code a Go binary carries, read from its pclntab (file and function
 * names, which survive `strip`) and its read-only strings. A function that only
 * returns nil leaves no code behind once inlined, so "disabled" code is not
 * always visible; code that *enables* kmem accounting always is.
 */
export type KmemCode =
  | "enabled" // kmem.go compiled in: built without the nokmem tag
  | "pre-split" // EnableKernelMemoryAccounting/setKernelMemory from memory.go with their bodies (runc < rc6, kubelet < 1.14)
  | "stubbed" // the same functions, each no bigger than a body that only returns nil (a source-patched kubelet)
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
const PRE_SPLIT = ["EnableKernelMemoryAccounting", "setKernelMemory"];
/**
 * Largest function, in bytes of the function table (alignment included), that
 * is still a body only returning nil: a few instructions, padded to amd64's
 * 32-byte function alignment. Upstream's bodies call into the cgroup file
 * writers and are hundreds of bytes.
 */
const STUB_MAX_BYTES = 64;
// runc rc7..rc93 kmem_disabled.go: setKernelMemory's error text.
const DISABLED_ERROR = "kernel memory accounting disabled in this runc build";

const BUILDINFO_MAGIC = Buffer.from("\xff Go buildinf:", "latin1");

/**
 * runtime.buildVersion from the .go.buildinfo header. Go 1.18+ writes the
 * string inline (flag bit 2); Go 1.13-1.17 write a pointer to a Go string
 * header (data pointer, length), which is followed through the sections'
 * load addresses.
 */
function buildVersion(buf: Buffer, elf: ElfLinkage, info: ElfSection): string | undefined {
  const head = buf.subarray(info.offset, info.offset + 32);
  if (head.length < 32 || !head.subarray(0, 14).equals(BUILDINFO_MAGIC)) return undefined;
  const ptrSize = head[14]!;
  const flags = head[15]!;
  if (flags & 2) return inlineString(buf, info.offset + 32);
  if (ptrSize !== 8 || flags & 1) return undefined; // this reader handles 64-bit little-endian ELF only
  const at = (addr: number) => {
    const s = elf.sections.find((sec) => sec.addr && addr >= sec.addr && addr < sec.addr + sec.size);
    return s ? s.offset + (addr - s.addr) : undefined;
  };
  const header = at(Number(head.readBigUInt64LE(16)));
  if (header === undefined || header + 16 > buf.length) return undefined;
  const data = at(Number(buf.readBigUInt64LE(header)));
  const length = Number(buf.readBigUInt64LE(header + 8));
  if (data === undefined || length > 64 || data + length > buf.length) return undefined;
  return buf.toString("latin1", data, data + length).match(/^go1\.\d+(?:\.\d+)?/)?.[0];
}

/** A uvarint-length-prefixed string, as Go 1.18+ inlines it. */
function inlineString(buf: Buffer, offset: number): string | undefined {
  let length = 0;
  let shift = 0;
  let i = offset;
  for (; i < buf.length && shift < 35; i++, shift += 7) {
    length |= (buf[i]! & 0x7f) << shift;
    if (!(buf[i]! & 0x80)) break;
  }
  return buf.toString("latin1", i + 1, i + 1 + Math.min(length, 64)).match(/^go1\.\d+(?:\.\d+)?/)?.[0];
}

/** Reads a file and tells whether it is a Go binary, and which kmem implementation it compiled in. */
export async function inspectGoBinary(file: string): Promise<GoBinary> {
  let buf: Buffer;
  try {
    // A FIFO or device would block the read forever, or never end.
    if (!(await stat(file)).isFile()) throw new UsageError(`${file} is not a regular file`);
    buf = await readFile(file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
  let elf: ElfLinkage;
  try {
    elf = parseElfLinkage(buf, file);
  } catch (err) {
    if (err instanceof NotElfError) throw new UsageError(`${file} is not a Go binary (${err.reason})`);
    throw err;
  }
  const section = (name: string) => elf.sections.find((s) => s.name === name);
  const pclntab = section(".gopclntab");
  const buildinfo = section(".go.buildinfo");
  if (!pclntab && !buildinfo) throw new UsageError(`${file} is not a Go binary (no Go runtime tables)`);

  // Names are NUL-terminated strings in the pclntab's file and function tables.
  const table = pclntab ? buf.subarray(pclntab.offset, pclntab.offset + pclntab.size) : buf;
  const has = (name: string) => table.includes(`${name}\0`);
  const goVersion = buildinfo ? buildVersion(buf, elf, buildinfo) : undefined;

  const component = has("/cmd/kubelet/kubelet.go") ? "kubelet" : has("/opencontainers/runc/main.go") ? "runc" : undefined;
  const sha256 = createHash("sha256").update(buf).digest("hex");
  const result = (kmem: KmemCode, evidence: string): GoBinary => ({ elf, component, goVersion, sha256, kmem, evidence });
  if (has(`${FS}/kmem.go`)) return result("enabled", "libcontainer/cgroups/fs/kmem.go is compiled in (built without the nokmem tag)");
  if (has(`${FS}/kmem_disabled.go`)) return result("disabled", "libcontainer/cgroups/fs/kmem_disabled.go is compiled in (nokmem build tag)");
  if (buf.includes(DISABLED_ERROR)) return result("disabled", `the nokmem build's error "${DISABLED_ERROR}" is compiled in`);
  // Neither kmem file: kmem functions that remain come from memory.go, from before the split.
  // Their sizes tell an upstream body (it calls the cgroup file writers) from a `return nil` stub.
  const sizes = goFunctionSizes(buf, elf, (name) => PRE_SPLIT.some((f) => name.endsWith(`${FS}.${f}`)));
  const named = [...sizes].map(([name, size]) => `${name.slice(name.lastIndexOf(".") + 1)} ${size} bytes`).join(", ");
  const big = [...sizes].filter(([, size]) => size > STUB_MAX_BYTES);
  if (big.length) return result("pre-split", `libcontainer/cgroups/fs from memory.go is compiled in with kmem-enabling bodies (${named}; a stub is at most ${STUB_MAX_BYTES})`);
  if (sizes.size) return result("stubbed", `libcontainer/cgroups/fs ${named}: bodies that only return nil (source-patched)`);
  const fn = PRE_SPLIT.find((f) => has(`${FS}.${f}`));
  if (fn) return result("pre-split", `libcontainer/cgroups/fs.${fn} from memory.go is compiled in (runc code from before the nokmem tag)`);
  if (has(`${FS}/memory.go`)) {
    return result("no-kmem-code", "runc's memory cgroup code is compiled in without any function that enables kmem accounting");
  }
  return result("no-runc-code", "no runc cgroup code is compiled in");
}

export interface KmemVerdict {
  /** off: nothing in the binary enables kmem accounting; on: something does. */
  kmem: "off" | "on";
  evidence: string;
}

/** The one answer to "does this binary enable kmem accounting?", from the binary alone. */
export function kmemVerdict(bin: GoBinary): KmemVerdict {
  const on = bin.kmem === "enabled" || bin.kmem === "pre-split";
  return { kmem: on ? "on" : "off", evidence: on ? `${bin.evidence}: it enables kmem accounting` : bin.evidence };
}
