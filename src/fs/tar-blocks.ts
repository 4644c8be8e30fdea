/**
 * Tar streams walked block by block, without decoding entries: where an
 * archive ends, and whether it ended at all. Written here because tar
 * libraries decode and re-encode every entry, and node-tar's extract takes an
 * archive cut after a header as whole (measured with tar 7).
 */

export const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
/** Types that carry no data whatever their size field says (Go's archive/tar, which the engine unpacks with, reads them so). */
const HEADER_ONLY = new Set(["1", "2", "3", "4", "5", "6"]);

/** Bytes of data after a header block: its size field (octal, or base-256 when the top bit is set), padded to whole blocks. */
function dataBytes(header: Buffer): number {
  if (HEADER_ONLY.has(String.fromCharCode(header[156]!))) return 0;
  const field = header.subarray(124, 136);
  const size = field[0]! & 0x80 ? field.subarray(1).reduce((n, b) => n * 256 + b, field[0]! & 0x7f) : parseInt(field.toString("latin1").replace(/\0.*$/s, "").trim() || "0", 8);
  return Math.ceil(size / BLOCK) * BLOCK;
}

/**
 * One tar's blocks up to, not including, its end-of-archive marker, one buffer per chunk read and
 * no copy of it (a buffer per block and per file's data made the copy into a container about a
 * third slower). Returns whether the marker came; without it, the archive was cut short.
 */
export async function* withoutEnd(part: AsyncIterable<Buffer>): AsyncGenerator<Buffer, boolean> {
  // A header block begun in an earlier chunk is held back: it may be the end marker.
  let held: Buffer = Buffer.alloc(0);
  let data = 0;
  for await (const chunk of part) {
    // What this chunk passes on: a held header that proved to be one, then the chunk up to `at`.
    const passed: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (data > 0) {
        const n = Math.min(data, chunk.length - at);
        data -= n;
        at += n;
        continue;
      }
      const n = BLOCK - held.length;
      if (chunk.length - at < n) {
        held = Buffer.concat([held, chunk.subarray(at)]);
        break;
      }
      const block = held.length ? Buffer.concat([held, chunk.subarray(at, at + n)]) : chunk.subarray(at, at + n);
      // A zero block ends the archive; what follows is the record's padding.
      if (block.equals(ZERO_BLOCK)) {
        passed.push(chunk.subarray(0, at));
        const last = Buffer.concat(passed);
        if (last.length) yield last;
        return true;
      }
      if (held.length) passed.push(held);
      held = Buffer.alloc(0);
      data = dataBytes(block);
      at += n;
    }
    passed.push(chunk.subarray(0, at));
    const out = passed.length === 1 ? passed[0]! : Buffer.concat(passed);
    if (out.length) yield out;
  }
  return false;
}

/** The archive as it comes, failing at its end when its end-of-archive marker never came (cut short). */
export async function* whole(archive: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  if (!(yield* withoutEnd(archive))) throw new Error("the archive ends without its end-of-archive marker");
  yield Buffer.alloc(2 * BLOCK);
}
