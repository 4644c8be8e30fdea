import { mkdtemp, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import { UsageError, errorMessage } from "../errors.js";

/**
 * Proves that `dir` (or, when it does not exist yet, its nearest existing
 * parent) is a directory this process can write in, by making and removing an
 * empty probe directory: permission bits alone say nothing for root, and a
 * read-only mount or an immutable directory only shows on a real write.
 */
export async function checkWritableDir(dir: string, flag: string): Promise<void> {
  let probeIn = path.resolve(dir);
  for (;;) {
    const st = await stat(probeIn).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" || err.code === "ENOTDIR" ? undefined : Promise.reject(err)));
    if (st?.isDirectory()) break;
    if (st) throw new UsageError(`${flag} ${dir}: ${probeIn === path.resolve(dir) ? "" : `${probeIn} `}is not a directory`);
    const parent = path.dirname(probeIn);
    if (parent === probeIn) break;
    probeIn = parent;
  }
  try {
    await rmdir(await mkdtemp(path.join(probeIn, ".nokmem-build-probe-")));
  } catch (err) {
    throw new UsageError(`${flag} ${dir}: cannot write in ${probeIn} (${errorMessage(err).split(",")[0]})`);
  }
}
