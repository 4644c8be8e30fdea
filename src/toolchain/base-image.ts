import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { UserError, errorMessage } from "../errors.js";
import { tempDirOf } from "../fs/sweep.js";
import type { DockerEngine } from "../docker/engine.js";
import { aptMirror } from "./apt-mirror.js";

export interface BaseImageOptions {
  /** Registry prefix to pull debian:<suite> from (a mirror or private registry), e.g. registry.internal:5000/library. */
  registry?: string;
  /** Debian mirror for debootstrap; default: the one this machine's apt uses. */
  debianMirror?: string;
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

export type BaseOrigin = "present" | "registry" | "debootstrap";

export interface BaseImage {
  /** The tool's own name for it, whatever its origin. */
  image: string;
  id: string;
  origin: BaseOrigin;
  /** Where it came from: the reference pulled, or the mirror debootstrap read. */
  from: string;
  /** The registry digest, when it was pulled. */
  digest: string | null;
}

/** `suite` is a Debian suite name: a Go toolchain's (bookworm, bullseye) or the node image's (trixie). */
export const baseImageRef = (suite: string) => `nokmem-build/debian:${suite}`;

/** `debian:bookworm`, or `<registry>/debian:bookworm` through a mirror or private registry. */
export const registryRef = (suite: string, registry?: string) => `${registry ? `${registry.replace(/\/+$/, "")}/` : ""}debian:${suite}`;

/**
 * A minimal Debian <suite> image on the engine, from wherever it can come:
 * already there; pulled as debian:<suite> (through --registry when given);
 * or made with debootstrap from a Debian mirror (root and debootstrap needed).
 * Whatever its origin it is tagged nokmem-build/debian:<suite>.
 */
export async function ensureBaseImage(docker: DockerEngine, suite: string, opts: BaseImageOptions): Promise<BaseImage> {
  const image = baseImageRef(suite);
  const own = await docker.imageInfo(image);
  if (own) return { image, id: own.id, origin: "present", from: image, digest: own.repoDigests[0] ?? null };

  const ref = registryRef(suite, opts.registry);
  let pullFailure: string;
  try {
    if (!(await docker.imageInfo(ref))) await docker.pullImage(ref, opts.onLine);
    await docker.tagImage(ref, image);
    const pulled = (await docker.imageInfo(image))!;
    return { image, id: pulled.id, origin: "registry", from: ref, digest: pulled.repoDigests[0] ?? null };
  } catch (err) {
    opts.signal?.throwIfAborted();
    pullFailure = errorMessage(err).split("\n")[0]!;
    opts.onLine(`cannot pull ${ref}: ${pullFailure}; trying debootstrap`);
  }

  const mirror = opts.debianMirror ?? (await aptMirror());
  const blocker =
    process.getuid?.() !== 0 ? "debootstrap needs root" : !mirror ? "no Debian mirror in this machine's apt sources" : undefined;
  if (!blocker) {
    const made = await debootstrapImage(suite, mirror!, image, docker, opts);
    if (made) return { image, id: made, origin: "debootstrap", from: mirror!, digest: null };
  }
  throw new UserError(
    `no Debian ${suite} base image: pulling ${ref} failed (${pullFailure}), and ${blocker ?? "debootstrap is not installed"}. ` +
      `Fix one of: --registry PREFIX (a mirror or private registry that holds debian:${suite}, e.g. registry.internal:5000/library); ` +
      `run as root with debootstrap installed (apt-get install debootstrap) and a Debian mirror (--debian-mirror URL or this machine's apt sources); ` +
      `or --go-image IMAGE (a Go image of your own)`,
  );
}

/** debootstrap a minimal rootfs and import it; undefined when debootstrap is not installed. */
async function debootstrapImage(suite: string, mirror: string, image: string, docker: DockerEngine, opts: BaseImageOptions): Promise<string | undefined> {
  const rootfs = await tempDirOf("rootfs");
  try {
    try {
      await run("debootstrap", ["--variant=minbase", suite, rootfs, mirror], opts.onLine, opts.signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      opts.signal?.throwIfAborted();
      throw new UserError(`debootstrap ${suite} from ${mirror} failed (${errorMessage(err)}); check the mirror, or pass --debian-mirror URL`);
    }
    const tar = spawn("tar", ["--numeric-owner", "-C", rootfs, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const tarDone = new Promise<number | null>((resolve) => tar.on("close", resolve));
    const id = await docker.importImage(tar.stdout, image);
    if ((await tarDone) !== 0) throw new UserError(`packing the ${suite} rootfs with tar failed; nothing usable was imported as ${image}`);
    return id;
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[], onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], signal });
    const forward = (b: Buffer) => b.toString().split("\n").filter(Boolean).forEach(onLine);
    child.stdout.on("data", forward);
    child.stderr.on("data", forward);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}`))));
  });
}
