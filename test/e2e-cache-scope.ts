import { randomBytes } from "node:crypto";
import { cli, removeDir, tempDir } from "./helpers.js";

const SCOPE_ENV = "NOKMEM_BUILD_CACHE_SCOPE";

/**
 * The e2e run builds under a Go-cache scope of its own (the test workers start after this and
 * inherit it), so its volumes never mix with the default-scope caches a user of the same engine
 * builds with, and at the end the tool's own `cache prune` removes them. A scope the caller set
 * is theirs: it is used and kept.
 */
export default function setup(): (() => Promise<void>) | undefined {
  if (process.env[SCOPE_ENV]) return undefined;
  const scope = `e2e-${randomBytes(4).toString("hex")}`;
  process.env[SCOPE_ENV] = scope;
  return async () => {
    // An empty cache directory: prune's other targets (sources, start-up caches) are not the run's.
    const empty = await tempDir("prune");
    try {
      const res = await cli(["cache", "prune", "--cache-dir", empty, "--json"], { [SCOPE_ENV]: scope });
      if (res.code !== 0) process.stderr.write(`could not remove the e2e run's cache volumes (scope ${scope}): ${res.stderr || res.stdout}\n`);
    } finally {
      await removeDir(empty);
    }
  };
}
