import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { create, list } from "tar";
import { UserError } from "../../src/errors.js";
import type { ContainerExit, ContainerSpec, DockerEngine, OutputSink } from "../../src/docker/engine.js";

/** What a faked container does once started: print through the sink, then exit. */
export type FakeRun = (sink: OutputSink, signal: AbortSignal | undefined) => Promise<ContainerExit>;

/**
 * An in-memory DockerEngine: it records every call, keeps the containers that
 * were created and not removed, and behaves as each test sets it up. Image
 * building, pulling and importing are not faked: a step that reaches them fails
 * the test loudly.
 */
export class FakeDocker implements DockerEngine {
  readonly endpoint = "unix:///fake/docker.sock";
  /** Method names in call order, e.g. ["ping", "engineInfo", …]. */
  readonly calls: string[] = [];
  /** Every container created, by id, with the spec it was created from. */
  readonly created = new Map<string, ContainerSpec>();
  /** Ids of containers created and not yet removed. */
  readonly live = new Set<string>();
  /** Ids passed to removeContainer, in order. */
  readonly removed: string[] = [];
  /** Entry paths of the tar each container read on its standard input. */
  readonly copiedIn = new Map<string, string[]>();
  /** Volumes on the fake engine: name -> labels and size in bytes. */
  readonly volumes = new Map<string, { labels: Record<string, string>; size: number }>();

  pingError: Error | undefined;
  engineArch = "x86_64";
  /** Fails the run once its input has been read (what a container's tar or the engine says). */
  inputError: Error | undefined;
  onRun: FakeRun = async () => ({ exitCode: 0, oomKilled: false });
  /**
   * What a container asked for an output writes on its standard output when it exits 0 (the tar of
   * the collected directory); by default nothing, as for a path that is not there.
   */
  archive: (() => Promise<Readable>) | undefined;
  #next = 0;

  async ping(): Promise<void> {
    this.calls.push("ping");
    if (this.pingError) throw this.pingError;
  }

  async engineInfo() {
    this.calls.push("engineInfo");
    return { version: "99.0-fake", os: "linux", arch: this.engineArch };
  }

  async imageId(ref: string): Promise<string | undefined> {
    this.calls.push("imageId");
    return `sha256:fake-${ref}`;
  }

  async imageInfo(ref: string): Promise<{ id: string; repoDigests: string[]; labels: Record<string, string> }> {
    this.calls.push("imageInfo");
    return { id: `sha256:fake-${ref}`, repoDigests: [], labels: {} };
  }

  tagImage(): Promise<void> {
    return this.#notFaked("tagImage");
  }

  pullImage(): Promise<void> {
    return this.#notFaked("pullImage");
  }

  buildImage(): Promise<string> {
    return this.#notFaked("buildImage");
  }

  importImage(): Promise<string> {
    return this.#notFaked("importImage");
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    this.calls.push("createContainer");
    const id = `fake${String(++this.#next).padStart(60, "0")}`;
    this.created.set(id, spec);
    this.live.add(id);
    return id;
  }

  async run(id: string, sink: OutputSink, signal?: AbortSignal, input?: Readable, output?: Writable): Promise<ContainerExit> {
    this.calls.push("run");
    this.#mustExist(id);
    if (input) {
      // Unpacked at /, as the build container's `tar -x -C /` does.
      const entries: string[] = [];
      await pipeline(input, list({ onReadEntry: (e) => entries.push(path.posix.join("/", e.path)) }));
      this.copiedIn.set(id, entries);
      if (this.inputError) throw this.inputError;
    }
    const exit = await this.onRun(sink, signal);
    if (output) {
      if (exit.exitCode === 0 && this.archive) await pipeline(await this.archive(), output);
      else output.end();
    }
    return exit;
  }

  async removeContainer(id: string): Promise<void> {
    this.calls.push("removeContainer");
    this.removed.push(id);
    this.live.delete(id);
  }

  async listContainers(): Promise<Array<{ id: string; labels: Record<string, string> }>> {
    this.calls.push("listContainers");
    return [];
  }

  async ensureVolume(name: string, labels: Record<string, string>): Promise<{ created: boolean }> {
    this.calls.push("ensureVolume");
    if (this.volumes.has(name)) return { created: false };
    this.volumes.set(name, { labels, size: 0 });
    return { created: true };
  }

  async listVolumes(labels: Record<string, string>): Promise<Array<{ name: string; labels: Record<string, string> }>> {
    this.calls.push("listVolumes");
    const matches = (l: Record<string, string>) => Object.entries(labels).every(([k, v]) => l[k] === v);
    return [...this.volumes].filter(([, v]) => matches(v.labels)).map(([name, v]) => ({ name, labels: v.labels }));
  }

  async removeVolume(name: string): Promise<void> {
    this.calls.push("removeVolume");
    this.volumes.delete(name);
  }

  async volumeSizes(): Promise<Map<string, number>> {
    this.calls.push("volumeSizes");
    return new Map([...this.volumes].map(([name, v]) => [name, v.size]));
  }

  /** How many times a method was called. */
  count(method: string): number {
    return this.calls.filter((c) => c === method).length;
  }

  #mustExist(id: string): void {
    if (!this.live.has(id)) throw new Error(`fake engine: no container ${id}`);
  }

  async #notFaked(method: string): Promise<never> {
    this.calls.push(method);
    throw new Error(`fake engine: ${method} is not faked`);
  }
}

/** A ping failure worded as the real engine wrapper words it. */
export const engineDown = () =>
  new UserError("no Docker engine answers at unix:///fake/docker.sock (connect ENOENT): start dockerd, or point DOCKER_HOST at an engine");

/**
 * A real tar stream of a directory `dir` holding `files`, as a container's
 * `tar -cf - -C <parent> <dir>` writes it: entries `dir/<name>`.
 */
export async function tarOf(dir: string, files: Record<string, string>): Promise<Readable> {
  const root = await mkdtemp(path.join(os.tmpdir(), "nokmem-test-tar-"));
  await mkdir(path.join(root, dir));
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(root, dir, name), content, { mode: 0o755 });
  const stream = create({ cwd: root, portable: true }, [dir]) as unknown as Readable;
  stream.once("end", () => void rm(root, { recursive: true, force: true }));
  return stream;
}

/** A container run that prints `lines` on stdout, then exits with `exit`. */
export const printsThenExits =
  (lines: string[], exit: Partial<ContainerExit> = {}): FakeRun =>
  async (sink) => {
    for (const line of lines) sink("stdout", `${line}\n`);
    return { exitCode: 0, oomKilled: false, ...exit };
  };

/** A container run that blocks until the signal aborts, then exits as a killed process does (137). */
export const runsUntilAborted =
  (onStarted: () => void): FakeRun =>
  (_sink, signal) =>
    new Promise((resolve, reject) => {
      if (!signal) return reject(new Error("runsUntilAborted needs a signal"));
      signal.addEventListener("abort", () => resolve({ exitCode: 137, oomKilled: false }), { once: true });
      onStarted();
    });
