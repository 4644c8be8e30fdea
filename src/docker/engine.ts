import Docker from "dockerode";
import { PassThrough, type Readable } from "node:stream";
import { UserError, errorMessage } from "../errors.js";

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
  /** Named volumes mounted into the container (type volume, not a bind mount: a remote engine has them too). */
  volumes?: Array<{ name: string; target: string }>;
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
  putArchive(id: string, destDir: string, tar: Readable): Promise<void>;
  /** Attaches, starts, and resolves once the process exited and both output streams ended. */
  run(id: string, sink: OutputSink, signal?: AbortSignal): Promise<ContainerExit>;
  getArchive(id: string, path: string): Promise<Readable>;
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

/** Wraps a failure with the container id and what was being done, so logs and errors say which one. */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${what}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Collects a JSON-lines progress stream (build, pull, import) and fails on its first error entry. */
function followProgress(modem: Docker["modem"], stream: NodeJS.ReadableStream, onLine?: (line: string) => void) {
  return new Promise<Array<Record<string, unknown>>>((resolve, reject) => {
    modem.followProgress(
      stream,
      (err: Error | null, output: Array<Record<string, unknown>>) => {
        if (err) return reject(err);
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

export function connectDocker(): DockerEngine {
  // dockerode reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH itself.
  const docker = new Docker();
  const endpoint = endpointOf();

  return {
    endpoint,
    async ping() {
      try {
        await docker.ping();
      } catch (err) {
        throw new UserError(
          `no Docker engine answers at ${endpoint} (${errorMessage(err)}): start dockerd, or point DOCKER_HOST at an engine`,
        );
      }
    },
    async engineInfo() {
      const v = await docker.version();
      return { version: v.Version, os: v.Os, arch: v.Arch };
    },
    async imageId(ref) {
      return (await this.imageInfo(ref))?.id;
    },
    async imageInfo(ref) {
      try {
        const image = await docker.getImage(ref).inspect();
        return { id: image.Id, repoDigests: image.RepoDigests ?? [], labels: image.Config?.Labels ?? {} };
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
    },
    async pullImage(ref, onLine) {
      await step(`pulling ${ref}`, async () => followProgress(docker.modem, await docker.pull(ref), onLine));
    },
    async tagImage(ref, newRef) {
      const [repo, tag] = splitRef(newRef);
      await step(`tagging ${ref} as ${newRef}`, () => docker.getImage(ref).tag({ repo, tag }));
    },
    async buildImage(context, opts, onLine) {
      return step(`building image ${opts.tag}`, async () => {
        const stream = await docker.buildImage(context, {
          t: opts.tag,
          dockerfile: opts.dockerfile,
          buildargs: opts.buildArgs,
          networkmode: opts.networkMode,
          labels: opts.labels,
          rm: true,
          forcerm: true,
        });
        await followProgress(docker.modem, stream, onLine);
        return (await docker.getImage(opts.tag).inspect()).Id;
      });
    },
    async importImage(rootfsTar, ref) {
      return step(`importing ${ref}`, async () => {
        const [repo, tag] = splitRef(ref);
        const stream = await docker.importImage(rootfsTar, { repo, tag });
        await followProgress(docker.modem, stream);
        return (await docker.getImage(ref).inspect()).Id;
      });
    },
    async createContainer(spec) {
      const container = await step(`creating a container from ${spec.image}`, () =>
        docker.createContainer({
          Image: spec.image,
          Cmd: spec.cmd,
          Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
          WorkingDir: spec.workingDir,
          Labels: spec.labels,
          NetworkDisabled: true,
          HostConfig: {
            NetworkMode: "none",
            Memory: spec.memoryBytes || undefined,
            // Without an equal swap limit the kernel swaps instead of OOM-killing.
            MemorySwap: spec.memoryBytes || undefined,
            NanoCpus: spec.nanoCpus || undefined,
            Mounts: spec.volumes?.map((v) => ({ Type: "volume" as const, Source: v.name, Target: v.target })),
          },
        }),
      );
      return container.id;
    },
    async putArchive(id, destDir, tar) {
      await step(`copying files into container ${short(id)}`, () =>
        docker.getContainer(id).putArchive(tar as never, { path: destDir }),
      );
    },
    async run(id, sink, signal) {
      const container = docker.getContainer(id);
      return step(`running container ${short(id)}`, async () => {
        const stream = await container.attach({ stream: true, stdout: true, stderr: true });
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        stdout.on("data", (b: Buffer) => sink("stdout", b.toString()));
        stderr.on("data", (b: Buffer) => sink("stderr", b.toString()));
        const ended = new Promise<void>((resolve) => {
          stream.on("end", resolve);
          stream.on("close", resolve);
          stream.on("error", () => resolve());
        });
        docker.modem.demuxStream(stream, stdout, stderr);
        const kill = () => void container.kill().catch(() => undefined);
        signal?.addEventListener("abort", kill, { once: true });
        try {
          await container.start();
          if (signal?.aborted) kill();
          const result = (await container.wait()) as { StatusCode: number };
          await ended;
          const state = (await container.inspect()).State;
          return { exitCode: result.StatusCode, oomKilled: Boolean(state.OOMKilled) };
        } finally {
          signal?.removeEventListener("abort", kill);
          // A followed stream left open would keep Node alive.
          (stream as unknown as { destroy?: () => void }).destroy?.();
        }
      });
    },
    async getArchive(id, path) {
      return step(`copying ${path} out of container ${short(id)}`, async () =>
        (await docker.getContainer(id).getArchive({ path })) as unknown as Readable,
      );
    },
    async removeContainer(id) {
      try {
        await docker.getContainer(id).remove({ force: true, v: true });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return;
        throw new Error(`removing container ${short(id)}: ${errorMessage(err)}`, { cause: err });
      }
    },
    async listContainers(labels) {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const list = await docker.listContainers({ all: true, filters });
      return list.map((c) => ({ id: c.Id, labels: c.Labels }));
    },
    async ensureVolume(name, labels) {
      try {
        await docker.getVolume(name).inspect();
        return { created: false };
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw new Error(`inspecting volume ${name}: ${errorMessage(err)}`, { cause: err });
      }
      // Creating a volume that exists (a parallel build won the race) returns it unchanged.
      await step(`creating volume ${name}`, () => docker.createVolume({ Name: name, Labels: labels }));
      return { created: true };
    },
    async listVolumes(labels) {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const { Volumes } = await docker.listVolumes({ filters });
      return (Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
    },
    async removeVolume(name) {
      try {
        await docker.getVolume(name).remove();
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return;
        throw new Error(`removing volume ${name}: ${errorMessage(err)}`, { cause: err });
      }
    },
    async volumeSizes() {
      const df = (await docker.df()) as { Volumes?: Array<{ Name: string; UsageData?: { Size?: number } }> };
      return new Map((df.Volumes ?? []).flatMap((v) => (v.UsageData?.Size ?? -1) >= 0 ? [[v.Name, v.UsageData!.Size!] as const] : []));
    },
  };
}

function splitRef(ref: string): [string, string] {
  const at = ref.lastIndexOf(":");
  return at > ref.lastIndexOf("/") ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, "latest"];
}
