import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import * as z from "zod";
import { writeFileAtomically } from "../fs/atomic.js";
import { ENV } from "../env.js";
import { UserError, errorMessage } from "../errors.js";
import type { DockerEngine } from "../docker/engine.js";
import { runInContainer } from "../docker/run-container.js";
import { buildContext, containerHash, dockerfilePath } from "./containers.js";

export interface Toolchain {
  goImage: string;
  goImageId: string;
  builderImage: string;
  builderImageId: string;
  /** `go version` as the builder image reports it, e.g. 1.19.8. */
  goVersion: string;
  /** Debian packages of the compilers and libraries, name -> exact version (empty for a non-Debian Go image). */
  packages: Record<string, string>;
  cached: boolean;
}

export interface ToolchainProbe {
  goVersion: string;
  packages: Record<string, string>;
}

interface BuilderOptions {
  /** Called with the Go image's version before anything is built on it: throws to refuse it. */
  accept: (goVersion: string) => void;
  /** Replaces the Go image's package sources (archived suites, internal mirrors). */
  debianMirror?: string;
  labels: Record<string, string>;
  onLine: (line: string) => void;
  signal?: AbortSignal;
  /** Where probes of builder images are kept, by image id (--cache-dir's toolchains/). */
  probeCache?: string;
}

/** Makes sure a Go image is on the engine: present already, or pulled; otherwise says how to get one. */
export async function ensureGoImage(docker: DockerEngine, ref: string, onLine?: (line: string) => void): Promise<string> {
  const present = await docker.imageId(ref);
  if (present) return present;
  try {
    await docker.pullImage(ref, onLine);
  } catch (err) {
    throw new UserError(
      `cannot pull the Go image ${ref} (${errorMessage(err).split("\n")[0]}): drop --go-image (and ${ENV.goImage}) to build on the recipe's Debian suite, ` +
        "or run `nokmem-build toolchain bootstrap` and pass the image it prints with --go-image",
    );
  }
  return (await docker.imageId(ref))!;
}

/**
 * The builder image (containers/builder on top of the Go image), tagged by a
 * hash of what it is built from (Dockerfile, scripts, mirror) and the Go image
 * id, so it is built once and reused until any of them changes.
 */
export async function ensureBuilderImage(docker: DockerEngine, goImage: string, goImageId: string, opts: BuilderOptions): Promise<Toolchain> {
  const recipeHash = (await containerHash("builder")) + (opts.debianMirror ?? "");
  const key = createHash("sha256").update(recipeHash).digest("hex").slice(0, 12) + goImageId.replace(/^sha256:/, "").slice(0, 12);
  const builderImage = `nokmem-build/builder:${key}`;
  let builderImageId = await docker.imageId(builderImage);
  const cached = builderImageId !== undefined;
  if (!builderImageId) {
    opts.accept((await probeToolchain(docker, goImage, opts.labels, opts.signal)).goVersion);
    builderImageId = await docker.buildImage(
      buildContext("builder"),
      { tag: builderImage, dockerfile: dockerfilePath("builder"), buildArgs: { GO_IMAGE: goImage, DEBIAN_MIRROR: opts.debianMirror ?? "" }, networkMode: "host" },
      opts.onLine,
    );
  }
  const probe = await keptProbe(opts.probeCache, builderImageId, () => probeToolchain(docker, builderImage, opts.labels, opts.signal));
  if (cached) opts.accept(probe.goVersion);
  return { goImage, goImageId, builderImage, builderImageId, ...probe, cached };
}

/** The folder of --cache-dir that keeps builder image probes. */
export const TOOLCHAIN_PROBES = "toolchains";

const PROBE = z.object({ goVersion: z.string().min(1), packages: z.record(z.string(), z.string()) });

/**
 * An image id names its content, so what a probe of it found never changes:
 * kept as a file, it spares every later build a container run just to ask
 * (a few tenths of a second each). A missing or unreadable file means probe again.
 */
async function keptProbe(dir: string | undefined, imageId: string, probe: () => Promise<ToolchainProbe>): Promise<ToolchainProbe> {
  // Targets built at the same time on one image (`build --jobs`) share one probe, and one write.
  const under = probing.get(imageId);
  if (under) return under;
  const once = readOrProbe(dir, imageId, probe).finally(() => probing.delete(imageId));
  probing.set(imageId, once);
  return once;
}

/** Probes under way in this process, by image id. */
const probing = new Map<string, Promise<ToolchainProbe>>();

async function readOrProbe(dir: string | undefined, imageId: string, probe: () => Promise<ToolchainProbe>): Promise<ToolchainProbe> {
  if (!dir) return probe();
  const file = path.join(dir, `${imageId.replace(/^sha256:/, "").replace(/[^\w.-]/g, "_")}.json`);
  const kept = PROBE.safeParse(await readFile(file, "utf8").then(JSON.parse, () => undefined));
  if (kept.success) return kept.data;
  const found = await probe();
  await mkdir(dir, { recursive: true });
  await writeFileAtomically(file, `${JSON.stringify(found)}\n`);
  return found;
}

/** Runs the image once: its `go version`, and the package versions the builder image recorded. */
export async function probeToolchain(docker: DockerEngine, image: string, labels: Record<string, string>, signal?: AbortSignal): Promise<ToolchainProbe> {
  let out = "";
  const run = await runInContainer(docker, {
    image,
    cmd: ["/bin/sh", "-c", "go version && cat /usr/local/lib/nokmem-build/packages 2>/dev/null; true"],
    env: {},
    workingDir: "/",
    labels,
    sink: (_s, text) => (out += text),
    signal,
  });
  const goVersion = out.match(/go version go(\d+\.\d+(?:\.\d+)?)/)?.[1];
  if (run.exitCode !== 0 || !goVersion) throw new UserError(`image ${image} has no working Go (go version: ${out.trim() || `exit ${run.exitCode}`})`);
  const packages: Record<string, string> = {};
  for (const m of out.matchAll(/^([a-z0-9][a-z0-9.+-]+) (\S+)$/gm)) packages[m[1]!] = m[2]!;
  return { goVersion, packages };
}
