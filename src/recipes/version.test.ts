import { describe, expect, it } from "vitest";
import semver from "semver";
import { compareTags, inRange, parseVersion, toComparable } from "./version.js";

describe("version order", () => {
  it("plain semver gets rc10 wrong: this is the trap", () => {
    expect(semver.lt("1.0.0-rc10", "1.0.0-rc6")).toBe(true);
  });

  it("orders runc tags numerically", () => {
    const tags = ["v1.0.0-rc93", "v1.0.0-rc10", "v1.0.0-rc6", "v1.0.0-rc90", "v1.0.0-rc9", "v1.0.0", "v1.0.0-rc92"];
    expect([...tags].sort(compareTags)).toEqual([
      "v1.0.0-rc6", "v1.0.0-rc9", "v1.0.0-rc10", "v1.0.0-rc90", "v1.0.0-rc92", "v1.0.0-rc93", "v1.0.0",
    ]);
  });

  it("applies the same order inside ranges", () => {
    const range = ">=1.0.0-rc6 <=1.0.0-rc90";
    expect(inRange(parseVersion("v1.0.0-rc10", "runc", "x"), range)).toBe(true);
    expect(inRange(parseVersion("v1.0.0-rc91", "runc", "x"), range)).toBe(false);
    expect(inRange(parseVersion("v1.0.0-rc5", "runc", "x"), range)).toBe(false);
    expect(toComparable(">=v1.0.0-rc94")).toBe(">=1.0.0-rc.94");
  });

  it("accepts tags with or without the v and names them with it", () => {
    expect(parseVersion("1.0.0-rc9", "runc", "x").tag).toBe("v1.0.0-rc9");
    expect(parseVersion(" v1.18.6 ", "kubelet", "x")).toEqual({ tag: "v1.18.6", comparable: "1.18.6" });
  });

  it.each(["latest", "rc9", "v1.0", "v1.0.0-rc9;rm -rf /", "", "1.0.0.0", "v1.0.0-"])("rejects %j as a usage error", (input) => {
    expect(() => parseVersion(input, "runc", "v1.0.0-rc9")).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringContaining("expected a release tag such as v1.0.0-rc9") }),
    );
  });
});
