/**
 * Just enough of an ELF reader to tell how a binary links: its interpreter,
 * DT_NEEDED libraries, and which symbols need which versioned glibc symbols.
 * Written here because the npm ELF parsers we looked at do not read the GNU
 * symbol-versioning sections (.gnu.version / .gnu.version_r), which this needs.
 */
export interface ElfSection {
  name: string;
  /** Virtual address when loaded (pointers in the binary refer to these). */
  addr: number;
  offset: number;
  size: number;
}

export interface ElfLinkage {
  interpreter: string | undefined;
  needed: string[];
  /** Undefined dynamic symbols with the version they require, e.g. `__libc_start_main@GLIBC_2.34`. */
  versionedSymbols: Array<{ symbol: string; version: string }>;
  static: boolean;
  /** Named sections with file contents (not .bss), e.g. .gopclntab, .go.buildinfo. */
  sections: ElfSection[];
}

/** A file this reader cannot take as an ELF binary; `reason` says why without the file's name. */
export class NotElfError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file} is ${reason}`);
    this.name = "NotElfError";
  }
}

const PT_INTERP = 3;
const SHT_DYNSYM = 11;
const SHT_DYNAMIC = 6;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;
const DT_NEEDED = 1n;

interface Section {
  nameOffset: number;
  type: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
}

export function parseElfLinkage(buf: Buffer, name = "file"): ElfLinkage {
  try {
    return parseElf(buf, name);
  } catch (err) {
    // Offsets that point past the end: a truncated or damaged file, not a bug.
    if (err instanceof RangeError) throw new NotElfError(name, `a truncated or damaged ELF file: its headers point past its ${buf.length} bytes`);
    throw err;
  }
}

function parseElf(buf: Buffer, name: string): ElfLinkage {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new NotElfError(name, "not an ELF executable");
  if (buf[4] !== 2 || buf[5] !== 1) throw new NotElfError(name, "not a 64-bit little-endian ELF binary");
  const num = (off: number) => Number(buf.readBigUInt64LE(off));
  const cstr = (off: number) => buf.toString("latin1", off, buf.indexOf(0, off));

  const phoff = num(0x20);
  const shoff = num(0x28);
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);

  let interpreter: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (buf.readUInt32LE(ph) === PT_INTERP) interpreter = cstr(num(ph + 8));
  }

  const sections: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    sections.push({
      nameOffset: buf.readUInt32LE(sh),
      type: buf.readUInt32LE(sh + 4),
      addr: num(sh + 0x10),
      offset: num(sh + 0x18),
      size: num(sh + 0x20),
      link: buf.readUInt32LE(sh + 0x28),
    });
  }
  const strAt = (table: Section | undefined, off: number) => (table ? cstr(table.offset + off) : "");

  const needed: string[] = [];
  for (const dyn of sections.filter((s) => s.type === SHT_DYNAMIC)) {
    for (let off = dyn.offset; off + 16 <= dyn.offset + dyn.size; off += 16) {
      if (buf.readBigInt64LE(off) === DT_NEEDED) needed.push(strAt(sections[dyn.link], num(off + 8)));
    }
  }

  // Version index -> version name, from the "needed versions" section.
  const versionNames = new Map<number, string>();
  for (const vn of sections.filter((s) => s.type === SHT_GNU_VERNEED)) {
    const strings = sections[vn.link];
    let entry = vn.offset;
    for (;;) {
      const count = buf.readUInt16LE(entry + 2);
      let aux = entry + buf.readUInt32LE(entry + 8);
      for (let i = 0; i < count; i++) {
        versionNames.set(buf.readUInt16LE(aux + 6) & 0x7fff, strAt(strings, buf.readUInt32LE(aux + 8)));
        aux += buf.readUInt32LE(aux + 12);
      }
      const next = buf.readUInt32LE(entry + 12);
      if (!next) break;
      entry += next;
    }
  }

  const versionedSymbols: ElfLinkage["versionedSymbols"] = [];
  const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
  const versym = sections.find((s) => s.type === SHT_GNU_VERSYM);
  if (dynsym && versym) {
    const strings = sections[dynsym.link];
    for (let i = 0; i * 24 < dynsym.size; i++) {
      const version = versionNames.get(buf.readUInt16LE(versym.offset + i * 2) & 0x7fff);
      if (version) versionedSymbols.push({ symbol: strAt(strings, buf.readUInt32LE(dynsym.offset + i * 24)), version });
    }
  }

  const SHT_NOBITS = 8;
  const names = sections[buf.readUInt16LE(0x3e)];
  const named = sections
    .filter((sec) => sec.type !== SHT_NOBITS && sec.offset + sec.size <= buf.length)
    .map((sec) => ({ name: strAt(names, sec.nameOffset), addr: sec.addr, offset: sec.offset, size: sec.size }));

  return { interpreter, needed, versionedSymbols, static: !interpreter && needed.length === 0, sections: named };
}
