import { describe, expect, it } from "vitest";
import { parseImageRef } from "./options.js";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("--go-image reference syntax", () => {
  it.each([
    "golang:1.19-bookworm",
    "nokmem-build/go:bookworm",
    "docker.io/library/golang:1.15-bullseye",
    "registry.internal:5000/team/go_1.x__b/c-d:TAG_1.2",
    "localhost:5000/go",
    "[::1]:5000/go:1",
    `golang@${DIGEST}`,
    `registry.internal/golang:1.19@${DIGEST}`,
    DIGEST,
    "MyRegistry.example/go:1", // a domain may have capitals; the repository may not
  ])("accepts %s", (ref) => {
    expect(parseImageRef(ref)).toBe(ref);
  });

  it.each([
    ["UPPER/Case:tag", /repository names are lower case/],
    ["golang:Bookworm@sha256:xyz", /not an image reference/],
    ["a b", /not an image reference/],
    ["", /not an image reference/],
    [":tag", /not an image reference/],
    ["golang:", /not an image reference/],
    ["http://registry/go", /not an image reference/],
    ["go/", /not an image reference/],
  ])("refuses %j before any engine call (exit 2)", (ref, why) => {
    expect(() => parseImageRef(ref)).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(why) }));
    expect(() => parseImageRef(ref)).toThrow(/such as golang:1\.19-bookworm/);
  });
});
