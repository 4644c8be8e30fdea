import os from "node:os";
import path from "node:path";
import { Option } from "commander";
import { UsageError } from "../errors.js";
import { DEFAULT_TARGET_GLIBC } from "../binary/glibc.js";
import { ENV, defaultCacheDir } from "../env.js";
import { SUITES, SUITE_NAMES, parseSuite, type Suite } from "../recipes/suites.js";
import { gitUrl } from "../source/fetch.js";

const UNITS: Record<string, number> = { "": 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

/** Docker-style sizes: 512m, 8g, 1073741824. */
export function parseMemory(value: string): number {
  const m = value.trim().toLowerCase().match(/^(\d+(?:\.\d+)?)([bkmg]?)$/);
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2]!]!) : NaN;
  if (!(bytes >= 6 * 2 ** 20)) throw new UsageError(`--memory ${value}: expected a size of at least 6m, such as 8g or 512m`);
  return bytes;
}

export function parseCpus(value: string): number {
  const cpus = Number(value);
  if (!(cpus > 0) || cpus > os.availableParallelism() * 64) throw new UsageError(`--cpus ${value}: expected a positive number such as 2 or 1.5`);
  return Math.round(cpus * 1e9);
}

export function parseGlibc(value: string): string {
  if (!/^2\.\d+$/.test(value)) throw new UsageError(`--target-glibc ${value}: expected a glibc version such as 2.17`);
  return value;
}

/** --target-glibc, as build, verify and install take it. */
export const targetGlibcOption = () =>
  new Option("--target-glibc <version>", "oldest glibc the binary must start on").default(DEFAULT_TARGET_GLIBC).argParser(parseGlibc);

export const suiteOption = () =>
  new Option("--suite <suite>", `Debian suite whose Go builds it (${SUITE_NAMES.map((s) => `${s}: Go ${SUITES[s]}`).join(", ")})`).argParser((v) => parseSuite(v));

export const registryOption = () =>
  new Option("--registry <prefix>", "pull debian:<suite> through this registry prefix (a mirror or private registry), e.g. registry.internal:5000/library")
    .env(ENV.registry)
    .argParser(parseRegistry);

export const debianMirrorOption = () =>
  new Option("--debian-mirror <url>", "Debian mirror for the toolchain's packages and debootstrap (default: this machine's apt mirror)")
    .env(ENV.debianMirror)
    .argParser(parseMirror);

/** A registry prefix as Docker references take it: host[:port][/path], no scheme. */
export function parseRegistry(value: string): string {
  const prefix = value.replace(/\/+$/, "");
  if (!/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/i.test(prefix)) {
    throw new UsageError(`--registry ${value}: expected a registry prefix without a scheme, such as registry.internal:5000/library`);
  }
  return prefix;
}

export function parseMirror(value: string): string {
  if (!URL.canParse(value) || !/^(https?|file):$/.test(new URL(value).protocol)) {
    throw new UsageError(`--debian-mirror ${value}: expected the URL of a Debian mirror, such as http://mirror.internal/debian`);
  }
  return value.replace(/\/+$/, "");
}

// Docker's reference grammar (distribution/reference): [DOMAIN[:PORT]/]PATH[:TAG][@DIGEST], PATH in lower case.
const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?`;
const PATH_COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const IMAGE_REF = new RegExp(
  String.raw`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$|^sha256:[0-9a-f]{64}$`,
);

/** An image reference Docker accepts, checked before any engine call (Docker would refuse it, or the HTTP client choke on it). */
export function parseImageRef(value: string, flag = "--go-image"): string {
  if (IMAGE_REF.test(value)) return value;
  const why = IMAGE_REF.test(value.toLowerCase()) ? "repository names are lower case" : "not an image reference";
  throw new UsageError(`${flag} ${value}: ${why}; expected [REGISTRY/]NAME[:TAG][@DIGEST], such as golang:1.19-bookworm`);
}

/** --source: a URL as git takes it, or a local clone that exists (the same test the clone applies, made before any engine work). */
export function parseSource(value: string): string {
  gitUrl(value);
  return value;
}

export const jsonOption = (what = "the result") => new Option("--json", `print one JSON object with ${what} (or the error) instead of progress`);

/** The flags every build command shares (the API's BuildOptions are made from them by sharedBuildSettings). */
export const buildCommandOptions = () => [
  new Option("--source <url-or-path>", "clone from this URL or local repository instead of upstream (mirror, air-gapped copy)").argParser(parseSource),
  new Option("--allow-unpinned", "build even when the tag is not at the recipe's pinned commit (recorded loudly in the manifest)"),
  new Option("--go-image <image>", "a Go image of your own instead of the recipe's Debian toolchain").env(ENV.goImage).argParser((v) => parseImageRef(v)),
  suiteOption(),
  registryOption(),
  debianMirrorOption(),
  new Option("--out <dir>", "output directory").default("./dist"),
  new Option("--cache-dir <dir>", "where sources and failed-build logs are kept").default(defaultCacheDir()).env(ENV.cacheDir),
  targetGlibcOption(),
  new Option("--link <mode>", "static, or dynamic (upstream's cgo linking, checked against --target-glibc)").choices(["static", "dynamic"]).default("static"),
  new Option("--memory <size>", "memory limit of the build container, e.g. 8g").argParser(parseMemory),
  new Option("--cpus <n>", "CPU limit of the build container, e.g. 2").argParser(parseCpus),
  new Option("--force", "rebuild even when the artifacts in --out still match (recipe, pin, toolchain, checksums)"),
  new Option("--no-cache", "compile without the toolchain's Go build cache volume (a cold build)"),
  jsonOption(),
];

export interface BuildFlags {
  source?: string;
  allowUnpinned?: boolean;
  goImage?: string;
  suite?: Suite;
  registry?: string;
  debianMirror?: string;
  out: string;
  cacheDir: string;
  targetGlibc: string;
  link: "static" | "dynamic";
  memory?: number;
  cpus?: number;
  force?: boolean;
  /** false with --no-cache. */
  cache: boolean;
  json?: boolean;
}

/** The build settings every build command takes the same way. */
export function sharedBuildSettings(flags: Omit<BuildFlags, "source" | "goImage">) {
  return {
    allowUnpinned: Boolean(flags.allowUnpinned),
    suite: flags.suite,
    registry: flags.registry,
    debianMirror: flags.debianMirror,
    outDir: path.resolve(flags.out),
    cacheDir: path.resolve(flags.cacheDir),
    targetGlibc: flags.targetGlibc,
    link: flags.link,
    memoryBytes: flags.memory ?? 0,
    nanoCpus: flags.cpus ?? 0,
    reuseExisting: !flags.force,
    noCache: !flags.cache,
  };
}
