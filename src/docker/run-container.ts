import { rm } from "node:fs/promises";
import { tempDirOf } from "../fs/sweep.js";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract } from "tar";
import type { ContainerSpec, DockerEngine, OutputSink } from "./engine.js";

export interface ContainerRunRequest extends ContainerSpec {
  /** Tar streams copied into the container before it starts: [directory in the container, tar]. */
  inputs?: Array<[string, Readable]>;
  /** A directory in the container to copy out after a successful run. */
  collect?: string;
  sink: OutputSink;
  signal?: AbortSignal;
}

export interface ContainerRunResult {
  exitCode: number;
  oomKilled: boolean;
  /** Host directory holding the collected directory (its basename inside), when requested and exit 0. */
  collected: string | undefined;
}

/**
 * One throwaway container: create, copy inputs in, run, copy outputs out,
 * and always remove it, whether the run succeeded, failed or was interrupted.
 */
export async function runInContainer(docker: DockerEngine, req: ContainerRunRequest): Promise<ContainerRunResult> {
  const id = await docker.createContainer(req);
  let collected: string | undefined;
  let failed = false;
  try {
    for (const [dest, tar] of req.inputs ?? []) await docker.putArchive(id, dest, tar);
    const exit = await docker.run(id, req.sink, req.signal);
    if (exit.exitCode === 0 && req.collect && !req.signal?.aborted) {
      collected = await tempDirOf("out");
      await pipeline(await docker.getArchive(id, req.collect), extract({ cwd: collected }));
    }
    return { ...exit, collected };
  } catch (err) {
    failed = true;
    if (collected) await rm(collected, { recursive: true, force: true });
    throw err;
  } finally {
    // After a failure (the engine gone, an interrupt) that failure is the news, not a removal that
    // fails with it: a container left behind carries our labels and the next run sweeps it.
    await docker.removeContainer(id).catch((err: unknown) => {
      if (!failed) throw err;
    });
  }
}
