import type { DockerEngine } from "../docker/engine.js";
import { TOOL_LABEL } from "../docker/labels.js";
import { aptMirror } from "./apt-mirror.js";
import { baseImageRef, ensureBaseImage, type BaseImage, type BaseImageOptions } from "./base-image.js";
import { buildContext, dockerfilePath } from "./containers.js";
import type { Suite } from "../recipes/suites.js";

export interface SuiteGoImage {
  image: string;
  id: string;
  suite: Suite;
  base: BaseImage;
  created: boolean;
}

export const goImageRef = (suite: Suite) => `nokmem-build/go:${suite}`;

// Where the base came from is kept on the Go image, so a reused image still says it.
const BASE_LABELS = { id: `${TOOL_LABEL}.base.id`, origin: `${TOOL_LABEL}.base.origin`, from: `${TOOL_LABEL}.base.from`, digest: `${TOOL_LABEL}.base.digest` };

function baseFromLabels(suite: Suite, labels: Record<string, string>): BaseImage | undefined {
  const origin = labels[BASE_LABELS.origin];
  if (origin !== "present" && origin !== "registry" && origin !== "debootstrap") return undefined;
  return { image: baseImageRef(suite), id: labels[BASE_LABELS.id] ?? "", origin, from: labels[BASE_LABELS.from] ?? "", digest: labels[BASE_LABELS.digest] || null };
}

/**
 * The Go image of a Debian suite (containers/go-debian: its golang-go on its
 * base), made once and reused. The base comes from the engine, a registry or
 * debootstrap (ensureBaseImage); packages come from --debian-mirror, else this
 * machine's Debian mirror, else the base's own sources.
 */
export async function ensureSuiteGoImage(docker: DockerEngine, suite: Suite, opts: BaseImageOptions & { force?: boolean }): Promise<SuiteGoImage> {
  const image = goImageRef(suite);
  const existing = opts.force ? undefined : await docker.imageInfo(image);
  const known = existing && baseFromLabels(suite, existing.labels);
  if (existing && known) return { image, id: existing.id, suite, base: known, created: false };

  // One mirror for the base (debootstrap) and the packages on it.
  const mirror = opts.debianMirror ?? (await aptMirror());
  const base = await ensureBaseImage(docker, suite, { ...opts, debianMirror: mirror });
  opts.onLine(`making ${image} from ${base.image} (${base.origin}: ${base.from})${mirror ? ` with packages from ${mirror}` : ""}`);
  const id = await docker.buildImage(
    buildContext("go-debian"),
    {
      tag: image,
      dockerfile: dockerfilePath("go-debian"),
      buildArgs: { BASE: base.image, DEBIAN_MIRROR: mirror ?? "" },
      networkMode: "host",
      labels: { [BASE_LABELS.id]: base.id, [BASE_LABELS.origin]: base.origin, [BASE_LABELS.from]: base.from, [BASE_LABELS.digest]: base.digest ?? "" },
    },
    opts.onLine,
  );
  return { image, id, suite, base, created: true };
}
