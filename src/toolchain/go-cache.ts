import type { DockerEngine } from "../docker/engine.js";
import { TOOL_LABEL } from "../docker/labels.js";
import { ENV } from "../env.js";

/** The label that marks a volume as one of the tool's caches, and which. */
export const CACHE_LABEL = `${TOOL_LABEL}.cache`;
export const BUILDER_LABEL = `${TOOL_LABEL}.builder`;
const SCOPE_LABEL = `${TOOL_LABEL}.scope`;

/** Whether a build compiled with a warm cache volume, a fresh one, or none (--no-cache). */
export type GoCacheState = "warm" | "cold" | "off";

/** NOKMEM_BUILD_CACHE_SCOPE keeps the caches of one CI job or test run apart from everyone else's. */
const scope = () => process.env[ENV.cacheScope]?.replace(/[^a-zA-Z0-9_.-]/g, "-") || undefined;

/** The labels that select the tool's cache volumes (of this scope, when one is set). */
export function cacheVolumeFilter(): Record<string, string> {
  const s = scope();
  return { [TOOL_LABEL]: "true", ...(s ? { [SCOPE_LABEL]: s } : {}), [CACHE_LABEL]: "go-build" };
}

/**
 * The Go build cache volume of one builder image: its name follows the image
 * id, so each toolchain keeps its own cache and a rebuilt toolchain starts a
 * new one (the old one goes with `cache prune`).
 */
export function goCacheVolume(builderImage: string, builderImageId: string): { name: string; labels: Record<string, string> } {
  const s = scope();
  const id = builderImageId.replace(/^sha256:/, "").slice(0, 12);
  return { name: `nokmem-build-gocache-${s ? `${s}-` : ""}${id}`, labels: { ...cacheVolumeFilter(), [BUILDER_LABEL]: builderImage } };
}

/** Makes the toolchain's cache volume (unless it exists): cold when it was just made, warm otherwise. */
export async function ensureGoCache(docker: DockerEngine, builderImage: string, builderImageId: string): Promise<{ name: string; state: GoCacheState }> {
  const volume = goCacheVolume(builderImage, builderImageId);
  const { created } = await docker.ensureVolume(volume.name, volume.labels);
  return { name: volume.name, state: created ? "cold" : "warm" };
}
