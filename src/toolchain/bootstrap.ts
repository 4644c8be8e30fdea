import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UsageError, UserError } from "../errors.js";
import type { DockerEngine } from "../docker/engine.js";
import { aptMirror } from "./apt-mirror.js";
import { buildContext } from "./containers.js";
import { probeGoVersion } from "./builder.js";

/** Debian suites reachable here and the Go they package. */
export const SUITES = { bookworm: "1.19", bullseye: "1.15" } as const;
export type Suite = keyof typeof SUITES;

export interface BootstrapOptions {
  suite: string;
  mirror?: string;
  force?: boolean;
  labels: Record<string, string>;
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

export interface BootstrapResult {
  image: string;
  imageId: string;
  goVersion: string;
  suite: Suite;
  created: boolean;
}

export const goImageRef = (suite: Suite) => `nokmem-build/go:${suite}`;

export function parseSuite(suite: string): Suite {
  if (!(suite in SUITES)) throw new UsageError(`--suite ${suite}: expected one of ${Object.keys(SUITES).join(", ")}`);
  return suite as Suite;
}

function run(cmd: string, args: string[], onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], signal });
    const forward = (b: Buffer) => b.toString().split("\n").filter(Boolean).forEach(onLine);
    child.stdout.on("data", forward);
    child.stderr.on("data", forward);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new UserError(`${cmd} exited with ${code}`))));
  });
}

/**
 * Makes a Go base image from Debian packages: debootstrap a minimal rootfs from
 * the machine's apt mirror, import it, then add golang-go (containers/go-debian).
 * Reuses the image when it exists unless `force`.
 */
export async function bootstrapGoImage(docker: DockerEngine, opts: BootstrapOptions): Promise<BootstrapResult> {
  const suite = parseSuite(opts.suite);
  const image = goImageRef(suite);
  const existing = opts.force ? undefined : await docker.imageId(image);
  if (existing) {
    const goVersion = await probeGoVersion(docker, image, opts.labels, opts.signal);
    return { image, imageId: existing, goVersion, suite, created: false };
  }

  const mirror = opts.mirror ?? (await aptMirror());
  if (!mirror) throw new UsageError("no Debian mirror found in this machine's apt sources: pass --mirror URL");
  if (process.getuid?.() !== 0) throw new UserError("toolchain bootstrap runs debootstrap, which needs root: run it as root");

  const rootfs = await mkdtemp(path.join(os.tmpdir(), "nokmem-build-rootfs-"));
  try {
    try {
      await run("debootstrap", ["--variant=minbase", suite, rootfs, mirror], opts.onLine, opts.signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new UserError("debootstrap is not installed: apt-get install debootstrap (or pass --go-image to use an existing Go image)");
      }
      throw new UserError(`debootstrap ${suite} from ${mirror} failed (${(err as Error).message}); check the mirror or pass --mirror URL`);
    }
    const base = `nokmem-build/debian:${suite}`;
    const tar = spawn("tar", ["--numeric-owner", "-C", rootfs, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const tarDone = new Promise<number | null>((resolve) => tar.on("close", resolve));
    await docker.importImage(tar.stdout, base);
    if ((await tarDone) !== 0) throw new UserError(`packing the ${suite} rootfs with tar failed; nothing usable was imported as ${base}`);
    const imageId = await docker.buildImage(
      buildContext("go-debian"),
      { tag: image, buildArgs: { BASE: base }, networkMode: "host" },
      opts.onLine,
    );
    const goVersion = await probeGoVersion(docker, image, opts.labels, opts.signal);
    return { image, imageId, goVersion, suite, created: true };
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}
