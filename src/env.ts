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
  /** The GitHub repository `download` reads releases from. */
  repo: "NOKMEM_BUILD_REPO",
} as const;
