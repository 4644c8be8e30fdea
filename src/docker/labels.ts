import os from "node:os";
import { InterruptedError, UserError } from "../errors.js";
import { pidAlive } from "../fs/sweep.js";
import type { DockerEngine } from "./engine.js";

export const TOOL_LABEL = "io.nokmem-build";
const RUN_LABEL = `${TOOL_LABEL}.run`;
const HOST_LABEL = `${TOOL_LABEL}.host`;
const PID_LABEL = `${TOOL_LABEL}.pid`;

/** Labels on every container we create, so a crashed run's leftovers can be found and removed. */
export function runLabels(runId: string): Record<string, string> {
  return { [TOOL_LABEL]: "true", [RUN_LABEL]: runId, [HOST_LABEL]: os.hostname(), [PID_LABEL]: String(process.pid) };
}

/**
 * Removes containers left by runs of this tool on this host whose process is
 * gone (killed with SIGKILL, machine crash). Runs still alive are left alone.
 */
export async function sweepLeftovers(docker: DockerEngine): Promise<number> {
  const mine = await docker.listContainers({ [TOOL_LABEL]: "true", [HOST_LABEL]: os.hostname() });
  const dead = mine.filter((c) => !pidAlive(Number(c.labels[PID_LABEL])));
  // Another run sweeping the same leftover at the same time (409: removal in progress) is no reason to fail this one;
  // the engine gone or stuck, or an interrupt, is.
  const removed = await Promise.all(
    dead.map((c) =>
      docker.removeContainer(c.id).then(
        () => true,
        (err: unknown) => (err instanceof UserError || err instanceof InterruptedError ? Promise.reject(err) : false),
      ),
    ),
  );
  return removed.filter(Boolean).length;
}
