import type { ElfLinkage } from "./elf.js";

/**
 * Function names and code sizes from a Go binary's pclntab, which survives
 * `strip`. Each function table entry gives a function's entry PC; the next
 * entry's PC ends it, so the size includes alignment padding. Header layouts:
 * Go 1.2-1.15 (magic 0xfffffffb), 1.16-1.17 (0xfffffffa), 1.18-1.19
 * (0xfffffff0), 1.20+ (0xfffffff1); 64-bit little-endian binaries only.
 * Written here because no npm package reads the Go function table.
 */
export function goFunctionSizes(buf: Buffer, elf: ElfLinkage, wanted: (name: string) => boolean): Map<string, number> {
  const sizes = new Map<string, number>();
  const section = elf.sections.find((s) => s.name === ".gopclntab");
  if (!section || section.size < 16) return sizes;
  const tab = buf.subarray(section.offset, section.offset + section.size);
  const magic = tab.readUInt32LE(0);
  if (tab[7] !== 8) return sizes;
  const word = (off: number) => Number(tab.readBigUInt64LE(off));
  const cstr = (off: number) => (off >= 0 && off < tab.length ? tab.toString("latin1", off, tab.indexOf(0, off)) : "");
  const nfunc = word(8);

  // Per layout: where the function table starts, the size of its entries, and how a function's name is found.
  let functab: number;
  let entrySize: number;
  let nameOf: (funcoff: number) => string;
  if (magic === 0xfffffffb) {
    functab = 16;
    entrySize = 8;
    nameOf = (funcoff) => cstr(tab.readInt32LE(funcoff + 8));
  } else if (magic === 0xfffffffa) {
    const funcnames = word(8 + 2 * 8);
    functab = word(8 + 6 * 8);
    entrySize = 8;
    nameOf = (funcoff) => cstr(funcnames + tab.readInt32LE(functab + funcoff + 8));
  } else if (magic === 0xfffffff0 || magic === 0xfffffff1) {
    const funcnames = word(8 + 3 * 8);
    functab = word(8 + 7 * 8);
    entrySize = 4;
    nameOf = (funcoff) => cstr(funcnames + tab.readInt32LE(functab + funcoff + 4));
  } else {
    return sizes;
  }
  const read = (off: number) => (entrySize === 8 ? word(off) : tab.readUInt32LE(off));
  for (let i = 0; i < nfunc; i++) {
    const at = functab + i * 2 * entrySize;
    if (at + 3 * entrySize > tab.length) break;
    const name = nameOf(read(at + entrySize));
    if (wanted(name)) sizes.set(name, read(at + 2 * entrySize) - read(at));
  }
  return sizes;
}
