import { describe, expect, it } from "vitest";
import { describeWindow, parseSuite, placeInWindow, suitesFor } from "./suites.js";

describe("Go windows", () => {
  it.each([
    ["1.15.15", { min: "1.15.0", max: "1.17" }, "ok"],
    ["1.15.15", { min: "1.16.0", max: "1.17" }, "too-old"],
    ["1.13.3", { min: "1.13.4" }, "too-old"],
    ["1.13.4", { min: "1.13.4" }, "ok"],
    ["1.17.13", { max: "1.17" }, "ok"],
    ["1.18", { max: "1.17" }, "too-new"],
    ["1.19.8", { max: "1.9" }, "too-new"],
    ["1.9.7", { max: "1.9" }, "ok"],
    ["1.19.8", {}, "ok"],
  ] as const)("Go %s against %o is %s", (go, window, place) => {
    expect(placeInWindow(go, window)).toBe(place);
  });

  it("finds the suites whose Go minor fits (the exact patch is checked on the image)", () => {
    expect(suitesFor({ min: "1.13.4", max: "1.17" })).toEqual(["bullseye"]);
    expect(suitesFor({ min: "1.15.0", max: "1.17" })).toEqual(["bullseye"]);
    expect(suitesFor({ min: "1.16.0", max: "1.17" })).toEqual([]);
    expect(suitesFor({ max: "1.9" })).toEqual([]);
    expect(suitesFor({ min: "1.14" })).toEqual(["bookworm", "bullseye"]);
  });

  it("words a window for messages", () => {
    expect(describeWindow({ min: "1.16.0", max: "1.17" })).toBe("Go 1.16.0 to 1.17.x");
    expect(describeWindow({})).toBe("any Go");
  });

  it("refuses an unknown suite, naming those it knows and their Go", () => {
    expect(() => parseSuite("buster")).toThrow("--suite buster: expected one of bookworm (Go 1.19), bullseye (Go 1.15)");
  });
});
