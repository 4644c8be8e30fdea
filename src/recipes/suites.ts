import semver from "semver";
import { UsageError } from "../errors.js";

/**
 * Debian suites a toolchain is made from, and the Go minor their golang-go
 * package ships (bookworm: golang-1.19, bullseye: golang-1.15; both on
 * Debian's main mirrors). buster and stretch have moved to Debian's archive.
 */
export const SUITE_NAMES = ["bookworm", "bullseye"] as const;
export type Suite = (typeof SUITE_NAMES)[number];
export const SUITES: Record<Suite, string> = { bookworm: "1.19", bullseye: "1.15" };

export function parseSuite(value: string, flag = "--suite"): Suite {
  if (!(value in SUITES)) throw new UsageError(`${flag} ${value}: expected one of ${SUITE_NAMES.map((s) => `${s} (Go ${SUITES[s]})`).join(", ")}`);
  return value as Suite;
}

/** "1.19" or "1.13.4" as a comparable semver; Go's own "go1.20" style is accepted too. */
const asSemver = (v: string) => semver.coerce(v.replace(/^go/, ""))!.version;

export const goMinor = (version: string) => version.replace(/^go/, "").split(".").slice(0, 2).join(".");

/** A Go window: at least `min` (a full version, e.g. 1.13.4), at most the `max` minor (any patch of it). */
export interface GoWindow {
  min?: string;
  max?: string;
}

/** Where a Go version falls against a window: inside, or too old / too new. */
export function placeInWindow(go: string, w: GoWindow): "ok" | "too-old" | "too-new" {
  if (w.min && semver.lt(asSemver(go), asSemver(w.min))) return "too-old";
  if (w.max && semver.gt(asSemver(goMinor(go)), asSemver(w.max))) return "too-new";
  return "ok";
}

/** Suites whose Go minor can satisfy the window (the exact patch is checked on the image). */
export const suitesFor = (w: GoWindow): Suite[] =>
  SUITE_NAMES.filter((s) => placeInWindow(SUITES[s], { max: w.max, min: w.min && goMinor(w.min) }) === "ok");

/** A recipe's Go window, from its minGo and maxGo. */
export const goWindow = (r: { minGo?: { version: string }; maxGo?: { version: string } }): GoWindow => ({ min: r.minGo?.version, max: r.maxGo?.version });

export const describeWindow = (w: GoWindow) =>
  w.min && w.max ? `Go ${w.min} to ${w.max}.x` : w.min ? `Go ${w.min} or later` : w.max ? `Go ${w.max}.x or older` : "any Go";
