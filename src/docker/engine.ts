import Docker from "dockerode";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { demuxAttach } from "./demux.js";
import { InterruptedError, UserError, errorMessage, interruption, onAbort } from "../errors.js";

export interface ContainerSpec {
  image: string;
  cmd: string[];
  env: Record<string, string>;
  workingDir: string;
  labels: Record<string, string>;
  /** Hard memory limit in bytes (0: none). */
  memoryBytes?: number;
  /** CPU limit in units of 1e-9 CPUs (0: none). */
  nanoCpus?: number;
  /**
   * Volumes mounted into the container (type volume, not a bind mount: a remote engine has them too).
   * Without a name, a fresh anonymous volume that goes with the container.
   */
  volumes?: Array<{ name?: string; target: string }>;
  /** Directories held in memory (tmpfs, programs may run from them): nothing written to disk, nothing to delete. */
  tmpfs?: string[];
  /** The process reads, on its standard input, the stream `run` is given, then end of file. */
  stdin?: boolean;
}

export interface ContainerExit {
  exitCode: number;
  oomKilled: boolean;
}

export interface ImageBuildOptions {
  tag: string;
  /** Path of the Dockerfile inside the context (default: Dockerfile). */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  /** `host` lets `RUN apt-get` reach the machine's package mirror. */
  networkMode?: string;
  /** Labels on the image made, e.g. where its base came from. */
  labels?: Record<string, string>;
}

export type OutputSink = (stream: "stdout" | "stderr", text: string) => void;

/**
 * The narrow slice of the Docker API the pipeline uses. Steps receive it as a
 * parameter, so unit tests can pass a fake and end-to-end tests the real engine.
 */
export interface DockerEngine {
  /** Where the engine is, for error messages (DOCKER_HOST or the local socket). */
  readonly endpoint: string;
  ping(): Promise<void>;
  engineInfo(): Promise<{ version: string; os: string; arch: string }>;
  imageId(ref: string): Promise<string | undefined>;
  /** The image's id and the registry digests it was pulled by, or undefined when absent. */
  imageInfo(ref: string): Promise<{ id: string; repoDigests: string[]; labels: Record<string, string> } | undefined>;
  pullImage(ref: string, onLine?: (line: string) => void): Promise<void>;
  tagImage(ref: string, newRef: string): Promise<void>;
  buildImage(context: Readable, opts: ImageBuildOptions, onLine: (line: string) => void): Promise<string>;
  importImage(rootfsTar: Readable, ref: string): Promise<string>;
  createContainer(spec: ContainerSpec): Promise<string>;
  /**
   * Attaches, starts, sends `input` (if any) to the process's standard input, and resolves once the
   * process exited and both output streams ended. With `output`, the process's standard output goes
   * there as bytes, ended when the container's output ends, instead of to the sink.
   */
  run(id: string, sink: OutputSink, signal?: AbortSignal, input?: Readable, output?: Writable): Promise<ContainerExit>;
  removeContainer(id: string): Promise<void>;
  listContainers(labels: Record<string, string>): Promise<Array<{ id: string; labels: Record<string, string> }>>;
  /** Creates the named volume with these labels unless it exists; says whether it was created. */
  ensureVolume(name: string, labels: Record<string, string>): Promise<{ created: boolean }>;
  listVolumes(labels: Record<string, string>): Promise<Array<{ name: string; labels: Record<string, string> }>>;
  removeVolume(name: string): Promise<void>;
  /** Bytes each volume holds, by name, from the engine's disk-usage report (absent: not reported). */
  volumeSizes(): Promise<Map<string, number>>;
}

const short = (id: string) => id.slice(0, 12);

function endpointOf(): string {
  return process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
}

/** How long the engine may take to answer a request (ping, inspect, create, start, remove, list …). */
export const ANSWER_MS = 30_000;
/** How long a copy into a container may stand still before the engine counts as stuck. */
export const TRANSFER_IDLE_MS = 60_000;

/** The engine failed us: it went away, or stopped answering. One line, exit 1. */
export class DockerEngineError extends UserError {
  constructor(
    message: string,
    readonly kind: "gone" | "silent",
    /** For "gone": the socket error (ECONNREFUSED …). */
    readonly detail = "",
  ) {
    super(message);
    this.name = "DockerEngineError";
  }
}

/** Socket-level failures: the engine is not there (any more), whatever the request was. */
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOENT", "EPIPE", "ECONNABORTED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ENOTCONN"]);

function connectionLost(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string" && CONNECTION_CODES.has(code)) return code;
  return /^(socket hang up|aborted)$/.test(errorMessage(err)) ? errorMessage(err) : undefined;
}

/** The HTTP status the engine answered with, through our wrapping. */
const statusOf = (err: unknown): number | undefined =>
  (err as { statusCode?: number }).statusCode ?? ((err as Error).cause as { statusCode?: number } | undefined)?.statusCode;

const cut = () => Object.assign(new Error("aborted"), { code: "ECONNRESET" });
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
const firstLine = (err: unknown) => errorMessage(err).split("\n")[0]!;
/** A timer that never keeps the process alive on its own. */
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

interface CallOptions {
  /** Time limit; with `touch`, the longest time without progress. */
  ms?: number;
  /** False for clean-up, which must still run after an interrupt. */
  interruptible?: boolean;
}

/**
 * One request to the engine, bounded: `fn` gets the request's abort signal
 * (passed on to dockerode, so a given-up request closes its connection) and
 * `touch`, which restarts the clock while bytes move.
 */
type Call = <T>(what: string, fn: (signal: AbortSignal, touch: () => void) => Promise<T>, opts?: CallOptions) => Promise<T>;

function requests(endpoint: string, interrupt: AbortSignal | undefined) {
  /** Any failure of a request as one line: the engine went away, stopped answering, or said no (with its words). */
  const fault = (what: string, err: unknown): Error => {
    if (err instanceof UserError || err instanceof InterruptedError) return err;
    const lost = connectionLost(err);
    if (lost) return new DockerEngineError(`the Docker engine at ${endpoint} went away while ${what} (${lost}): check that dockerd is running, then try again`, "gone", lost);
    return new Error(`${what}: ${firstLine(err)}`, { cause: err });
  };
  const silent = (what: string, ms: number) =>
    new DockerEngineError(
      `the Docker engine at ${endpoint} did not answer within ${seconds(ms)} while ${what}: check that dockerd is running and not stuck, or point DOCKER_HOST at another engine`,
      "silent",
    );

  const call: Call = async (what, fn, { ms = ANSWER_MS, interruptible = true } = {}) => {
    const ac = new AbortController();
    const stop = onAbort(interruptible ? [interrupt] : []);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(silent(what, ms)), ms);
    });
    try {
      return await Promise.race([fn(ac.signal, () => timer?.refresh()), timedOut, stop.promise]);
    } catch (err) {
      // A request given up closes its connection.
      ac.abort(err);
      throw fault(what, err);
    } finally {
      clearTimeout(timer);
      stop.off();
    }
  };

  /** An image build, pull or import: unbounded in time (minutes are normal), but it fails when the connection drops and stops on an interrupt. */
  const longRequest = async (what: string, open: (signal: AbortSignal) => Promise<NodeJS.ReadableStream>, follow: (stream: NodeJS.ReadableStream) => Promise<unknown>) => {
    const ac = new AbortController();
    const stop = onAbort([interrupt]);
    try {
      const stream = await Promise.race([open(ac.signal), stop.promise]);
      // Closing the connection is what makes the engine cancel the build or pull.
      stop.promise.catch(() => (stream as unknown as { destroy?: () => void }).destroy?.());
      await Promise.race([follow(stream), stop.promise]);
    } catch (err) {
      ac.abort(err);
      throw fault(what, err);
    } finally {
      stop.off();
    }
  };

  return { call, longRequest, fault };
}

/**
 * Sends `input` to a process's standard input over `connection`, then closes the connection's
 * sending half: the engine closes the process's standard input. Settles only when the input itself
 * fails, or when the engine takes nothing for TRANSFER_IDLE_MS while input waits (`stalled`): the
 * container unpacks as fast as it is sent, so that is an engine that stopped reading, and the run
 * would otherwise wait for it forever. The connection's own failures (the process gone, the engine
 * gone) show in the output and exit.
 */
function send(input: Readable, connection: Writable, stalled: () => Error): Promise<never> {
  return new Promise((_, reject) => {
    // Checked when the clock runs out, not counted from the last chunk: a slow source (git) is no engine fault.
    const idle = setTimeout(() => (connection.writableNeedDrain ? reject(stalled()) : idle.refresh()), TRANSFER_IDLE_MS);
    const stop = () => clearTimeout(idle);
    input.on("data", () => idle.refresh());
    connection.on("drain", () => idle.refresh());
    input.on("error", (err) => (stop(), reject(err)));
    input.on("end", () => (stop(), connection.end()));
    input.on("close", stop);
    connection.on("close", stop);
    input.pipe(connection, { end: false });
  });
}

/** Collects a JSON-lines progress stream (build, pull, import) and fails on its first error entry or a cut connection. */
function followProgress(modem: Docker["modem"], stream: NodeJS.ReadableStream, onLine?: (line: string) => void) {
  return new Promise<Array<Record<string, unknown>>>((resolve, reject) => {
    // A stream that closes without ending was cut: never a success.
    let ended = false;
    stream.on("end", () => (ended = true));
    modem.followProgress(
      stream,
      (err: Error | null, output: Array<Record<string, unknown>>) => {
        if (err) return reject(err);
        if (!ended) return reject(cut());
        const failed = output.find((o) => o.error || o.errorDetail);
        if (failed) return reject(new Error(String(failed.error ?? JSON.stringify(failed.errorDetail))));
        resolve(output);
      },
      (event: Record<string, unknown>) => {
        if (typeof event.stream === "string") event.stream.split("\n").filter(Boolean).forEach((l) => onLine?.(l));
        // Pulls report per layer: "<layer>: Downloading 12.3MB/48MB".
        else if (typeof event.status === "string") onLine?.([event.id, event.status, event.progress].filter(Boolean).join(" "));
      },
    );
  });
}

/**
 * The engine at DOCKER_HOST (or the local socket). Every request is bounded
 * (ANSWER_MS; a copy into a container: TRANSFER_IDLE_MS without progress) except a build
 * container's run once its input is in (the wait for its exit, and its output) and image
 * builds, pulls and imports, which may take minutes but fail as soon as the
 * connection drops. `interrupt` (by default
 * the process's first SIGINT or SIGTERM) stops any request at once, except
 * the clean-up (removing a container), which still runs within its bound.
 */
export function connectDocker(interrupt: AbortSignal | undefined = interruption.signal): DockerEngine {
  // dockerode reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH itself.
  const docker = new Docker();
  // dockerode takes an abort signal on these calls too; its types do not say so.
  const untyped = docker as unknown as {
    ping(opts: { abortSignal: AbortSignal }): Promise<unknown>;
    version(opts: { abortSignal: AbortSignal }): Promise<Docker.DockerVersion>;
  };
  const inspectImage = (ref: string, signal: AbortSignal) => docker.getImage(ref).inspect({ abortSignal: signal } as Docker.ImageInspectOptions);
  const endpoint = endpointOf();
  const { call, longRequest, fault } = requests(endpoint, interrupt);
  const follow = (onLine?: (line: string) => void) => (stream: NodeJS.ReadableStream) => followProgress(docker.modem, stream, onLine);
  /** The image each container we made runs, to name it when the container cannot start. */
  const imageOf = new Map<string, string>();
  const imageIdOf = async (ref: string) => (await call(`looking up image ${ref}`, (signal) => inspectImage(ref, signal))).Id;

  return {
    endpoint,
    async ping() {
      try {
        await call("checking that it runs (ping)", (signal) => untyped.ping({ abortSignal: signal }));
      } catch (err) {
        if (err instanceof InterruptedError || (err instanceof DockerEngineError && err.kind === "silent")) throw err;
        const cause = err instanceof DockerEngineError ? err.detail : firstLine((err as Error).cause ?? err);
        throw new UserError(`no Docker engine answers at ${endpoint} (${cause}): start dockerd, or point DOCKER_HOST at an engine`);
      }
    },
    async engineInfo() {
      const v = await call("asking its version", (signal) => untyped.version({ abortSignal: signal }));
      return { version: v.Version, os: v.Os, arch: v.Arch };
    },
    async imageId(ref) {
      return (await this.imageInfo(ref))?.id;
    },
    async imageInfo(ref) {
      try {
        const image = await call(`looking up image ${ref}`, (signal) => inspectImage(ref, signal));
        return { id: image.Id, repoDigests: image.RepoDigests ?? [], labels: image.Config?.Labels ?? {} };
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async pullImage(ref, onLine) {
      await longRequest(`pulling ${ref}`, (signal) => docker.pull(ref, { abortSignal: signal }), follow(onLine));
    },
    async tagImage(ref, newRef) {
      const [repo, tag] = splitRef(newRef);
      await call(`tagging ${ref} as ${newRef}`, (signal) => docker.getImage(ref).tag({ repo, tag, abortSignal: signal }));
    },
    async buildImage(context, opts, onLine) {
      const buildOptions = {
        t: opts.tag,
        dockerfile: opts.dockerfile,
        buildargs: opts.buildArgs,
        networkmode: opts.networkMode,
        labels: opts.labels,
        rm: true,
        forcerm: true,
      };
      await longRequest(`building image ${opts.tag}`, (signal) => docker.buildImage(context, { ...buildOptions, abortSignal: signal }), follow(onLine));
      return imageIdOf(opts.tag);
    },
    async importImage(rootfsTar, ref) {
      const [repo, tag] = splitRef(ref);
      await longRequest(`importing ${ref}`, (signal) => docker.importImage(rootfsTar, { repo, tag, abortSignal: signal }), follow());
      return imageIdOf(ref);
    },
    async createContainer(spec) {
      const container = await call(
        `creating a container from ${spec.image}`,
        (signal) =>
          docker.createContainer({
            Image: spec.image,
            Cmd: spec.cmd,
            Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
            WorkingDir: spec.workingDir,
            Labels: spec.labels,
            NetworkDisabled: true,
            // Closed after the one stream `run` sends: the process sees end of file.
            ...(spec.stdin ? { OpenStdin: true, StdinOnce: true, AttachStdin: true } : {}),
            HostConfig: {
              NetworkMode: "none",
              // What a build prints (and the artifacts, on standard output) reach us on the attach
              // stream: the engine keeps no log of them on its disk or in the host's journal.
              LogConfig: { Type: "none", Config: {} },
              Memory: spec.memoryBytes || undefined,
              // Without an equal swap limit the kernel swaps instead of OOM-killing.
              MemorySwap: spec.memoryBytes || undefined,
              NanoCpus: spec.nanoCpus || undefined,
              // An empty Source makes an anonymous volume, which `remove` with `v` deletes.
              Mounts: spec.volumes?.map((v) => ({ Type: "volume" as const, Source: v.name ?? "", Target: v.target })),
              // The older Tmpfs map, not Mounts: only it takes `exec` (Mounts take options from API 1.46 on).
              Tmpfs: spec.tmpfs?.length ? Object.fromEntries(spec.tmpfs.map((t) => [t, "exec"])) : undefined,
            },
            abortSignal: signal,
          }),
        // Not interruptible: a container made after we stopped listening would be left behind, its id unknown.
        { interruptible: false },
      );
      imageOf.set(container.id, spec.image);
      return container.id;
    },
    async run(id, sink, signal, input, output) {
      const container = docker.getContainer(id);
      const what = `running container ${short(id)}`;
      // The engine refused to start it (no such executable in the image, a bad limit): its words, and the image.
      const cannotStart = (err: unknown) => {
        const words = statusOf(err) ? String(((err as Error).cause as Error).message).replace(/^\(HTTP code \d+\) [^-]*- /, "").trim() : undefined;
        const why = words?.match(/unable to start container process: (.*?)(: unknown)?$/)?.[1] ?? words;
        return why ? new UserError(`cannot start a container from ${imageOf.get(id) ?? "its image"}: ${why}`) : err;
      };
      // With an input, one hijacked connection carries it in and the output out.
      const streams = { stream: true, stdout: true, stderr: true, ...(input ? { stdin: true, hijack: true } : {}) };
      const stream = await call(`attaching to container ${short(id)}`, (s) => container.attach({ ...streams, abortSignal: s }));
      const stdout = output ?? new PassThrough().on("data", (b: Buffer) => sink("stdout", b.toString()));
      const stderr = new PassThrough();
      stderr.on("data", (b: Buffer) => sink("stderr", b.toString()));
      // The output closes when the process exits, and when the engine goes away: a cut one ends `output` short.
      const outputClosed = new Promise<void>((resolve) => {
        const closed = () => {
          if (!stdout.writableEnded) stdout.end();
          resolve();
        };
        stream.on("end", closed);
        stream.on("close", closed);
        stream.on("error", closed);
      });
      demuxAttach(stream, stdout, stderr);
      // Stopped by the run's own signal as by the process's interrupt; the caller's clean-up removes the container.
      const { promise: stop, off } = onAbort([signal, interrupt]);
      const waitRequest = new AbortController();
      try {
        await Promise.race([call(`starting container ${short(id)}`, (s) => container.start({ abortSignal: s })).catch((err) => Promise.reject(cannotStart(err))), stop]);
        const sending = `copying files into container ${short(id)}`;
        const stalled = () => new DockerEngineError(`the Docker engine at ${endpoint} took nothing for ${seconds(TRANSFER_IDLE_MS)} while ${sending}: check that dockerd is running and not stuck, then try again`, "silent");
        const inputFailed = input ? send(input, stream as unknown as Writable, stalled).catch((err) => Promise.reject(fault(sending, err))) : undefined;
        // The one unbounded request: a build takes as long as it takes. Once the engine is gone it never
        // answers (its response has begun), so the closed output is the sign, and inspect tells which.
        const waiting = container.wait({ abortSignal: waitRequest.signal }) as Promise<{ StatusCode: number }>;
        waiting.catch(() => undefined);
        const exitedOrClosed = Promise.race([waiting.catch((err) => Promise.reject(fault(what, err))), outputClosed, ...(inputFailed ? [inputFailed] : [])]);
        for (;;) {
          await Promise.race([exitedOrClosed, stop]);
          const { State: state } = await call(what, (s) => container.inspect({ abortSignal: s }), { interruptible: false });
          if (!state.Running) {
            // What the process printed last may still be on its way when wait() answered first.
            await Promise.race([outputClosed, pause(10_000), stop]);
            return { exitCode: state.ExitCode, oomKilled: Boolean(state.OOMKilled) };
          }
          // The output closed a moment before the process was counted as exited: look again shortly.
          await Promise.race([waiting.catch(() => undefined), pause(1_000), stop]);
        }
      } finally {
        off();
        waitRequest.abort();
        // A followed stream left open would keep Node alive; an input not sent to its end stops (git archive).
        (stream as unknown as { destroy?: () => void }).destroy?.();
        input?.destroy();
      }
    },
    async removeContainer(id) {
      try {
        // Not interruptible: this is the clean-up an interrupt runs.
        await call(`removing container ${short(id)}`, (signal) => docker.getContainer(id).remove({ force: true, v: true, abortSignal: signal }), { interruptible: false });
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw err;
      }
    },
    async listContainers(labels) {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const list = await call("listing containers", (signal) => docker.listContainers({ all: true, filters, abortSignal: signal }));
      return list.map((c) => ({ id: c.Id, labels: c.Labels }));
    },
    async ensureVolume(name, labels) {
      try {
        await call(`inspecting volume ${name}`, (signal) => docker.getVolume(name).inspect({ abortSignal: signal }));
        return { created: false };
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
      // Creating a volume that exists (a parallel build won the race) returns it unchanged.
      await call(`creating volume ${name}`, (signal) => docker.createVolume({ Name: name, Labels: labels, abortSignal: signal }));
      return { created: true };
    },
    async listVolumes(labels) {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const { Volumes } = await call("listing volumes", (signal) => docker.listVolumes({ filters, abortSignal: signal }));
      return (Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
    },
    async removeVolume(name) {
      try {
        await call(`removing volume ${name}`, (signal) => docker.getVolume(name).remove({ abortSignal: signal }));
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw err;
      }
    },
    async volumeSizes() {
      const df = (await call("reading disk usage", () => docker.df())) as { Volumes?: Array<{ Name: string; UsageData?: { Size?: number } }> };
      return new Map((df.Volumes ?? []).flatMap((v) => ((v.UsageData?.Size ?? -1) >= 0 ? [[v.Name, v.UsageData!.Size!] as const] : [])));
    },
  };
}

function splitRef(ref: string): [string, string] {
  const at = ref.lastIndexOf(":");
  return at > ref.lastIndexOf("/") ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, "latest"];
}
