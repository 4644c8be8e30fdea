import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { aptMirror } from "./apt-mirror.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "nokmem-apt-"));
  await mkdir(path.join(root, "sources.list.d"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe("finding the machine's Debian mirror", () => {
  it("reads deb822 .sources, skipping security and third-party repositories", async () => {
    await writeFile(
      path.join(root, "sources.list.d/debian.sources"),
      "Types: deb\nURIs: http://mirror.example.invalid/debian-security\nSuites: bookworm-security\n\n" +
        "Types: deb\nURIs: http://mirror.example.invalid/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n",
    );
    await writeFile(path.join(root, "sources.list.d/other.list"), "deb https://example.invalid/apt cloud-sdk main\n");
    expect(await aptMirror(root)).toBe("http://mirror.example.invalid/debian");
  });

  it("reads one-line sources.list entries, with options", async () => {
    await writeFile(path.join(root, "sources.list"), "# comment\ndeb [arch=amd64] http://local.example.invalid/debian bullseye main\n");
    expect(await aptMirror(root)).toBe("http://local.example.invalid/debian");
  });

  it("finds nothing where apt has no Debian archive", async () => {
    expect(await aptMirror(root)).toBeUndefined();
  });
});
