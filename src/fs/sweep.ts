import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** Whether a process still runs (EPERM: it does, as another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const PREFIX = "nokmem-build-";

/** A private temp directory whose name carries this process's pid, so a later run can tell it was left by a killed one. */
export const tempDirOf = (kind: string) => mkdtemp(path.join(os.tmpdir(), `${PREFIX}${kind}-${process.pid}-`));

/** Removes temp directories left by runs of this tool that were killed (SIGKILL, a crash); returns how many. */
export async function sweepTempDirs(dir = os.tmpdir()): Promise<number> {
  const left = (await readdir(dir).catch(() => [])).filter((name) => {
    const pid = name.startsWith(PREFIX) ? Number(name.match(/^nokmem-build-[a-z]+-(\d+)-/)?.[1]) : NaN;
    return Number.isInteger(pid) && !pidAlive(pid);
  });
  await Promise.all(left.map((name) => rm(path.join(dir, name), { recursive: true, force: true })));
  return left.length;
}

/** Removes `.NAME.<tag>-<pid>-…` temporaries beside `file` (see tempBeside) whose process is gone. */
export async function sweepTempsBeside(file: string, tag: string): Promise<void> {
  const prefix = `.${path.basename(file)}.${tag}-`;
  const left = (await readdir(path.dirname(file)).catch(() => [])).filter(
    (name) => name.startsWith(prefix) && !pidAlive(Number(name.slice(prefix.length).split("-")[0])),
  );
  await Promise.all(left.map((name) => rm(path.join(path.dirname(file), name), { recursive: true, force: true })));
}
