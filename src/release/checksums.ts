import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";

export const SUMS_FILE = "SHA256SUMS";

/** Streams the file through the hash once; never holds it in memory. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** One `sha256sum` text-mode line. */
export const sumLine = (sha256: string, name: string) => `${sha256}  ${name}\n`;

/** Parses `sha256sum` output (text or binary mode) into name -> hash. */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = line.match(/^([0-9a-f]{64}) [ *](.+)$/);
    if (m) sums.set(m[2]!, m[1]!);
  }
  return sums;
}

/** Sums merged: entries for the same names are replaced, others kept; sorted by name, never listing the sums file itself. */
export function mergeSums(existing: string, added: Map<string, string>): string {
  const merged = parseSums(existing);
  for (const [name, sha] of added) merged.set(name, sha);
  merged.delete(SUMS_FILE);
  return [...merged.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, sha]) => sumLine(sha, name))
    .join("");
}
