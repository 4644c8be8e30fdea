import semver from "semver";
import { UsageError } from "../errors.js";

/**
 * Upstream tags such as `v1.0.0-rc10` are not ordered correctly by semver:
 * the pre-release identifier `rc10` is compared as a string and sorts before
 * `rc6` and `rc9`. Splitting a trailing number off a pre-release identifier
 * (`rc10` -> `rc.10`) makes it compare numerically, for versions and ranges alike.
 */
export function toComparable(version: string): string {
  return version.replace(/-([a-z]+)(\d+)\b/gi, "-$1.$2").replace(/(^|[\s<>=~^])v(?=\d)/g, "$1");
}

export interface ParsedVersion {
  /** The upstream git tag, always with the leading `v`: `v1.0.0-rc9`. */
  tag: string;
  /** The same version in a form semver orders correctly: `1.0.0-rc.9`. */
  comparable: string;
}

const TAG_SHAPE = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

export function parseVersion(input: string, component: string, example: string): ParsedVersion {
  const trimmed = input.trim();
  // Upstream tags are lower case; "RC9" would sort before "rc6" as a pre-release and be refused for the wrong reason.
  if (TAG_SHAPE.test(trimmed) && /[A-Z]/.test(trimmed)) {
    throw new UsageError(`'${input}' is not a ${component} version: release tags are lower case, such as ${trimmed.toLowerCase().replace(/^(?!v)/, "v")}`);
  }
  const comparable = TAG_SHAPE.test(trimmed) ? semver.valid(toComparable(trimmed)) : null;
  if (!comparable) {
    throw new UsageError(
      `'${input}' is not a ${component} version: expected a release tag such as ${example}`,
    );
  }
  return { tag: trimmed.startsWith("v") ? trimmed : `v${trimmed}`, comparable };
}

export function inRange(version: ParsedVersion, range: string): boolean {
  return semver.satisfies(version.comparable, toComparable(range), { includePrerelease: true });
}

export function isValidRange(range: string): boolean {
  return semver.validRange(toComparable(range), { includePrerelease: true }) !== null;
}

export function compareTags(a: string, b: string): number {
  return semver.compare(toComparable(a), toComparable(b));
}
