import { copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Artifact } from "./artifact-list.js";
import { lock } from "proper-lockfile";
import { InterruptedError, UserError, errorMessage, onAbort, osFailure, throwIfInterrupted } from "../errors.js";
import { tempBeside } from "../fs/atomic.js";
import { SUMS_FILE, mergeSums, sha256File } from "./checksums.js";

/**
 * Moves staged artifacts into the output directory. Each file is first copied
 * next to its final name and then renamed, so a reader never sees half a file;
 * SHA256SUMS is merged and replaced last, once every file it lists is in place.
 */
export async function publishArtifacts(outDir: string, artifacts: readonly Artifact[], signal?: AbortSignal): Promise<string[]> {
  // This process's own builds (build --jobs) take turns here, each starting as the one before ends:
  // waiting on the file lock instead polls, and the second of two finishing together lost 50 ms or more.
  const key = path.resolve(outDir);
  const turn = (turns.get(key) ?? Promise.resolve()).then(() => publishLocked(outDir, artifacts, signal));
  const settled = turn.then(
    () => undefined,
    () => undefined,
  );
  turns.set(key, settled);
  void settled.then(() => turns.get(key) === settled && turns.delete(key));
  return turn;
}

/** The last publish queued per output directory in this process. */
const turns = new Map<string, Promise<void>>();

async function publishLocked(outDir: string, artifacts: readonly Artifact[], signal: AbortSignal | undefined): Promise<string[]> {
  throwIfInterrupted(signal);
  await mkdir(outDir, { recursive: true });
  // Builds side by side (build --jobs, or two processes sharing --out) publish one at a
  // time, so no SHA256SUMS merge is lost; a lock left by a killed process goes stale in seconds.
  const locking = lock(outDir, {
    lockfilePath: path.join(outDir, LOCK_FILE),
    realpath: false,
    stale: 10_000,
    retries: { retries: 120, minTimeout: 50, maxTimeout: 1000 },
  }).catch((err: unknown) => {
    throw new UserError(`cannot lock ${outDir} to publish (${errorMessage(err)}): another nokmem-build is still writing there`);
  });
  // An interrupt while waiting for the lock stops the wait; the lock, if it comes, is let go at once.
  const interrupt = onAbort([signal]);
  const release = await Promise.race([locking, interrupt.promise])
    .catch((err: unknown) => {
      if (err instanceof InterruptedError) locking.then((r) => r(), () => undefined);
      throw err;
    })
    .finally(interrupt.off);
  try {
    return await publishNow(outDir, artifacts, signal);
  } finally {
    await release();
  }
}

const LOCK_FILE = ".nokmem-build.lock";

async function publishNow(outDir: string, artifacts: readonly Artifact[], signal: AbortSignal | undefined): Promise<string[]> {
  const sums = new Map<string, string>();
  const temps = new Map<string, string>();
  let renamed = 0;
  try {
    for (const a of artifacts) {
      const tmp = tempBeside(path.join(outDir, a.name));
      temps.set(a.name, tmp);
      await copyFile(a.path, tmp);
      sums.set(a.name, await sha256File(tmp));
    }
    const existing = await readFile(path.join(outDir, SUMS_FILE), "utf8").catch(() => "");
    const sumsTmp = tempBeside(path.join(outDir, SUMS_FILE));
    temps.set(SUMS_FILE, sumsTmp);
    await writeFile(sumsTmp, mergeSums(existing, sums));
    // Everything is staged beside its final name: the renames below cannot fail halfway for lack of space,
    // and an interrupt up to here leaves the directory as it was.
    throwIfInterrupted(signal);
    for (const a of artifacts) {
      await rename(temps.get(a.name)!, path.join(outDir, a.name));
      renamed++;
    }
    await rename(sumsTmp, path.join(outDir, SUMS_FILE));
  } catch (err) {
    throw writeFailure(outDir, err, renamed === 0);
  } finally {
    await Promise.all([...temps.values()].map((t) => rm(t, { force: true })));
  }
  return [...artifacts.map((a) => a.name), SUMS_FILE];
}

/** A file-system failure while publishing, as one line: what failed where, what to do, and whether --out was left as it was. */
function writeFailure(outDir: string, err: unknown, untouched: boolean): unknown {
  const os = osFailure(err);
  if (!os) return err;
  const fix = os.code === "ENOSPC" || os.code === "EDQUOT" ? "free space there or pass another --out" : "make it writable or pass another --out";
  const state = untouched ? "nothing in it was replaced" : "some artifacts were replaced, SHA256SUMS was not: build again";
  return new UserError(`cannot write the artifacts into ${outDir} (${os.text}): ${fix}; ${state}`);
}
