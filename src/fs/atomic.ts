import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * A dot-name beside `file`, unique per call: on the same file system, so the
 * final rename is atomic, and hidden from readers listing the directory.
 */
export const tempBeside = (file: string, tag = "tmp") =>
  path.join(path.dirname(file), `.${path.basename(file)}.${tag}-${process.pid}-${randomBytes(4).toString("hex")}`);

/**
 * Fills a temporary path beside `dest`, then renames it over `dest` in one
 * step: a reader sees the old content or the new, never half of it. The
 * temporary is removed whatever happens.
 */
export async function replaceAtomically(dest: string, fill: (tmp: string) => Promise<void>, tag?: string): Promise<void> {
  const tmp = tempBeside(dest, tag);
  try {
    await fill(tmp);
    await rename(tmp, dest);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export const writeFileAtomically = (dest: string, data: string | Uint8Array) =>
  replaceAtomically(dest, (tmp) => writeFile(tmp, data, { flag: "wx" }));
