import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Sample } from "./forecast.js";
import { writeAtomically } from "./metrics.js";

/** The state file: the samples of one node root (another root starts afresh). */
interface State {
  version: 1;
  root: string;
  samples: Sample[];
}

const isSample = (s: unknown): s is Sample => {
  const o = s as Record<string, unknown>;
  return (
    typeof o === "object" && o !== null && Number.isFinite(o.time) && Number.isInteger(o.counted) && Number.isInteger(o.present) &&
    (o.bootId === undefined || typeof o.bootId === "string")
  );
};

/** Where doctor keeps its samples by default: /var/lib/nokmem-build as root, else the cache directory. */
export function defaultStateFile(cacheDir: string): string {
  return process.getuid?.() === 0 ? "/var/lib/nokmem-build/doctor-samples.json" : path.join(cacheDir, "doctor-samples.json");
}

/**
 * The samples kept for `root`: none when the file is missing or holds another
 * root; `problem` says why a file that exists was not usable (it is then replaced).
 */
export async function loadSamples(file: string, root: string): Promise<{ samples: Sample[]; problem?: string }> {
  const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? undefined : Promise.reject(err)));
  if (text === undefined) return { samples: [] };
  let state: State;
  try {
    state = JSON.parse(text) as State;
  } catch {
    return { samples: [], problem: `${file} is not JSON: starting a new series` };
  }
  if (state?.version !== 1 || !Array.isArray(state.samples) || !state.samples.every(isSample)) return { samples: [], problem: `${file} is not a doctor state file: starting a new series` };
  return { samples: state.root === root ? state.samples : [] };
}

export async function saveSamples(file: string, root: string, samples: Sample[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const state: State = { version: 1, root, samples };
  await writeAtomically(file, `${JSON.stringify(state)}\n`);
}
