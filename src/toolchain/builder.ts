import { ENV } from "../env.js";
import { UserError, errorMessage } from "../errors.js";
import type { DockerEngine } from "../docker/engine.js";
import { runInContainer } from "../docker/run-container.js";
import { buildContext, dockerfileHash } from "./containers.js";

export interface Toolchain {
  goImage: string;
  builderImage: string;
  builderImageId: string;
  /** `go version` as the builder image reports it, e.g. 1.19.8. */
  goVersion: string;
  cached: boolean;
}

/** Makes sure the base Go image is on the engine: present already, or pulled; otherwise says how to get one. */
export async function ensureGoImage(docker: DockerEngine, ref: string): Promise<string> {
  const present = await docker.imageId(ref);
  if (present) return present;
  try {
    await docker.pullImage(ref);
  } catch (err) {
    throw new UserError(
      `cannot pull the Go image ${ref} (${errorMessage(err).split("\n")[0]}): without registry access, ` +
        `run \`nokmem-build toolchain bootstrap\` and pass the image it prints with --go-image (or set ${ENV.goImage})`,
    );
  }
  return (await docker.imageId(ref))!;
}

/**
 * The builder image (containers/builder on top of the Go image), tagged by a
 * hash of its Dockerfile and the Go image id, so it is built once and reused
 * until either changes.
 */
export async function ensureBuilderImage(
  docker: DockerEngine,
  goImage: string,
  labels: Record<string, string>,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<Toolchain> {
  const goImageId = await ensureGoImage(docker, goImage);
  const key = (await dockerfileHash("builder")).slice(0, 12) + goImageId.replace(/^sha256:/, "").slice(0, 12);
  const builderImage = `nokmem-build/builder:${key}`;
  let builderImageId = await docker.imageId(builderImage);
  const cached = builderImageId !== undefined;
  if (!builderImageId) {
    builderImageId = await docker.buildImage(
      buildContext("builder"),
      { tag: builderImage, buildArgs: { GO_IMAGE: goImage }, networkMode: "host" },
      onLine,
    );
  }
  const goVersion = await probeGoVersion(docker, builderImage, labels, signal);
  return { goImage, builderImage, builderImageId, goVersion, cached };
}

export async function probeGoVersion(
  docker: DockerEngine,
  image: string,
  labels: Record<string, string>,
  signal?: AbortSignal,
): Promise<string> {
  let out = "";
  const run = await runInContainer(docker, {
    image,
    cmd: ["go", "version"],
    env: {},
    workingDir: "/",
    labels,
    sink: (_s, text) => (out += text),
    signal,
  });
  const version = out.match(/go(\d+\.\d+(?:\.\d+)?)/)?.[1];
  if (run.exitCode !== 0 || !version) throw new UserError(`image ${image} has no working Go (go version: ${out.trim() || `exit ${run.exitCode}`})`);
  return version;
}

export const goMinor = (version: string) => version.split(".").slice(0, 2).join(".");
