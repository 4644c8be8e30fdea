import { rm } from "node:fs/promises";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract } from "tar";
import { UserError } from "../errors.js";
import { tempDirOf } from "../fs/sweep.js";
import { whole } from "../fs/tar-blocks.js";
import type { ContainerSpec, DockerEngine, OutputSink } from "./engine.js";

export interface ContainerRunRequest extends ContainerSpec {
  /** A stream the container's process reads on its standard input (the `stdin` of the spec is set from it). */
  input?: Readable;
  /** A directory in the container to bring out after a successful run (the image needs /bin/sh and tar). */
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
 * The command with its standard output sent to standard error (the log), then, once it succeeded,
 * `dir` as a tar stream on standard output: the artifacts come out on the connection the run already
 * holds, with no copy request after it (which cost the engine a mount of the container and ~0.2 s).
 */
const collecting = (cmd: string[], dir: string) => [
  "/bin/sh",
  "-c",
  'parent=$1 name=$2; shift 2; "$@" >&2 && exec tar -cf - -C "$parent" "$name"',
  "sh",
  path.posix.dirname(dir),
  path.posix.basename(dir),
  ...cmd,
];

/**
 * One throwaway container: create, run with its input, bring outputs out,
 * and always remove it, whether the run succeeded, failed or was interrupted.
 */
export async function runInContainer(docker: DockerEngine, req: ContainerRunRequest): Promise<ContainerRunResult> {
  let id: string;
  try {
    id = await docker.createContainer({ ...req, cmd: req.collect ? collecting(req.cmd, req.collect) : req.cmd, stdin: req.input !== undefined });
  } catch (err) {
    req.input?.destroy();
    throw err;
  }
  let into: string | undefined;
  let result: ContainerRunResult | undefined;
  let failure: { err: unknown } | undefined;
  try {
    // Unpacked as it arrives; kept only when the process exits 0 and the archive is whole.
    const output = req.collect ? new PassThrough() : undefined;
    into = output && (await tempDirOf("out"));
    const unpacked = output && pipeline(output, whole, extract({ cwd: into, strict: true }));
    unpacked?.catch(() => undefined);
    const exit = await docker.run(id, req.sink, req.signal, req.input, output);
    if (unpacked && exit.exitCode === 0 && !req.signal?.aborted) {
      await unpacked.catch((err: unknown) => {
        throw new UserError(`${req.collect} came out of container ${id.slice(0, 12)} incomplete (${(err as Error).message}): run again; if it recurs, check the Docker engine`);
      });
      result = { ...exit, collected: into };
    } else {
      output?.destroy();
      result = { ...exit, collected: undefined };
    }
  } catch (err) {
    failure = { err };
  }
  // After a failure (the engine gone, an interrupt) that failure is the news, not a removal that
  // fails with it: a container left behind carries our labels and the next run sweeps it.
  const removal = await docker.removeContainer(id).then(() => undefined, (err: unknown) => ({ err }));
  const thrown = failure ?? removal;
  if (into && (thrown || !result?.collected)) await rm(into, { recursive: true, force: true });
  if (thrown) throw thrown.err;
  return result!;
}
