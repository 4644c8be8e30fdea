import { rm } from "node:fs/promises";
import { tempDirOf } from "../fs/sweep.js";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract } from "tar";
import type { ContainerSpec, DockerEngine, OutputSink } from "./engine.js";

export interface ContainerRunRequest extends ContainerSpec {
  /** A stream the container's process reads on its standard input (the `stdin` of the spec is set from it). */
  input?: Readable;
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
 * One throwaway container: create, run with its input, copy outputs out,
 * and always remove it, whether the run succeeded, failed or was interrupted.
 */
export async function runInContainer(docker: DockerEngine, req: ContainerRunRequest): Promise<ContainerRunResult> {
  let id: string;
  try {
    id = await docker.createContainer({ ...req, stdin: req.input !== undefined });
  } catch (err) {
    req.input?.destroy();
    throw err;
  }
  let collected: string | undefined;
  let failed = false;
  try {
    const exit = await docker.run(id, req.sink, req.signal, req.input);
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
