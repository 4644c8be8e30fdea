import { readFile, readdir } from "node:fs/promises";
import path from "node:path";

/**
 * The Debian mirror this machine's apt already uses, so bootstrap reaches the
 * same package source as `apt-get` (and no host name is baked into the tool).
 * Reads one-line `deb URL suite …` entries and deb822 `.sources` stanzas.
 */
export async function aptMirror(root = "/etc/apt"): Promise<string | undefined> {
  const files: string[] = [path.join(root, "sources.list")];
  try {
    const dir = path.join(root, "sources.list.d");
    files.push(...(await readdir(dir)).sort().map((f) => path.join(dir, f)));
  } catch {
    // no sources.list.d
  }
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue;
    }
    const found = file.endsWith(".sources") ? fromDeb822(text) : fromOneLine(text);
    if (found) return found;
  }
  return undefined;
}

// A Debian main archive: its path ends in /debian and it serves a release suite (not -security).
const isDebianArchive = (uri: string, suites: string[]) =>
  /\/debian\/?$/.test(uri) && suites.some((s) => /^[a-z]+(-updates)?$/.test(s));

function fromOneLine(text: string): string | undefined {
  for (const line of text.split("\n")) {
    const m = line.trim().match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/);
    if (m && isDebianArchive(m[1]!, [m[2]!])) return m[1]!.replace(/\/$/, "");
  }
  return undefined;
}

function fromDeb822(text: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => stanza.match(new RegExp(`^${name}:\\s*(.+)$`, "mi"))?.[1]?.trim().split(/\s+/) ?? [];
    if (!field("Types").includes("deb")) continue;
    const uri = field("URIs").find((u) => isDebianArchive(u, field("Suites")));
    if (uri) return uri.replace(/\/$/, "");
  }
  return undefined;
}
