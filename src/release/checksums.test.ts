import { describe, expect, it } from "vitest";
import { mergeSums, parseSums } from "./checksums.js";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

describe("SHA256SUMS", () => {
  it("merges: replaces same names, keeps others, sorts, never lists itself", () => {
    const existing = `${A}  runc-v1.0.0-rc9-nokmem-linux-amd64\n${B} *kubelet-v1.18.6-nokmem-linux-amd64\n${C}  SHA256SUMS\n`;
    const merged = mergeSums(existing, new Map([["runc-v1.0.0-rc9-nokmem-linux-amd64", C]]));
    expect(merged).toBe(`${B}  kubelet-v1.18.6-nokmem-linux-amd64\n${C}  runc-v1.0.0-rc9-nokmem-linux-amd64\n`);
  });

  it("ignores lines that are not checksum lines", () => {
    expect([...parseSums("keep me\n\nnot-a-hash  file\n").keys()]).toEqual([]);
  });
});
