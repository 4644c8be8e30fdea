import semver from "semver";
import type { ElfLinkage } from "./elf.js";

export const DEFAULT_TARGET_GLIBC = "2.17"; // CentOS/RHEL 7

export interface GlibcVerdict {
  ok: boolean;
  linkage: "static" | "dynamic";
  /** Highest GLIBC_x.y the binary needs; undefined when static or none needed. */
  maxGlibc: string | undefined;
  /** Symbols needing a glibc newer than the target, e.g. `__libc_start_main@GLIBC_2.34`. */
  tooNew: string[];
}

/** The verdict as one phrase, for build errors and verify alike. */
export function describeGlibc(v: GlibcVerdict, target: string): string {
  if (!v.ok) return `needs ${v.tooNew.slice(0, 3).join(", ")}, newer than the target glibc ${target}`;
  if (v.linkage === "static") return "static: starts on any glibc";
  return `dynamic, needs glibc ${v.maxGlibc ?? "(none versioned)"}: starts on ${target}`;
}

const asSemver = (v: string) => semver.coerce(v)?.version ?? "0.0.0";

/** Whether a binary needing glibc `needed` starts on a node whose glibc is `target`. */
export const glibcAtMost = (needed: string, target: string) => semver.lte(asSemver(needed), asSemver(target));

/** Will this binary start on a node whose glibc is `target`? Static binaries always do. */
export function checkGlibc(elf: ElfLinkage, target = DEFAULT_TARGET_GLIBC): GlibcVerdict {
  if (elf.static) return { ok: true, linkage: "static", maxGlibc: undefined, tooNew: [] };
  const glibc = elf.versionedSymbols.filter((s) => s.version.startsWith("GLIBC_2"));
  const versions = glibc.map((s) => s.version.slice("GLIBC_".length));
  const maxGlibc = versions.sort((a, b) => semver.compare(asSemver(a), asSemver(b))).at(-1);
  const tooNew = glibc
    .filter((s) => !glibcAtMost(s.version.slice(6), target))
    .map((s) => `${s.symbol}@${s.version}`);
  return { ok: tooNew.length === 0, linkage: "dynamic", maxGlibc, tooNew };
}
