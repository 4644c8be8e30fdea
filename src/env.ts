import os from "node:os";
import path from "node:path";

/** Every environment variable the tool reads, by one name each (options, README and tests refer to these). */
export const ENV = {
  /** --go-image for every build. */
  goImage: "NOKMEM_BUILD_GO_IMAGE",
  /** --cache-dir. */
  cacheDir: "NOKMEM_BUILD_CACHE_DIR",
  /** --registry: where debian:<suite> is pulled from. */
  registry: "NOKMEM_BUILD_REGISTRY",
  /** --debian-mirror: the Debian mirror debootstrap and the toolchain images use. */
  debianMirror: "NOKMEM_BUILD_DEBIAN_MIRROR",
  /** Keeps a separate set of Go build cache volumes (one CI job, one test run); `cache prune` then touches only those. */
  cacheScope: "NOKMEM_BUILD_CACHE_SCOPE",
  /** The GitHub repository `download` reads releases from. */
  repo: "NOKMEM_BUILD_REPO",
} as const;

/** Where the tool keeps what it caches on disk when --cache-dir and NOKMEM_BUILD_CACHE_DIR are not given. */
export function defaultCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "nokmem-build");
}

/** The cache directory where no --cache-dir is given: NOKMEM_BUILD_CACHE_DIR, else the default. */
export const envCacheDir = (): string => process.env[ENV.cacheDir] || defaultCacheDir();

/** The V8 code caches of the CLI's start-up, under the cache directory (written by src/launch.ts). */
export const STARTUP_CACHE = "startup";
