import type { DockerEngine } from "../docker/engine.js";
import type { ArtifactList } from "../release/artifact-list.js";
import type { GlibcVerdict } from "../binary/glibc.js";
import type { GoBinary } from "../binary/go-binary.js";
import type { BuildManifest } from "../release/manifest.js";
import type { ResolvedRecipe } from "../recipes/resolve.js";
import type { Component } from "../recipes/schema.js";
import type { SourceResult } from "../source/fetch.js";
import type { Toolchain } from "../toolchain/builder.js";
import type { GoCacheState } from "../toolchain/go-cache.js";
import type { BaseImage } from "../toolchain/base-image.js";
import type { Suite } from "../recipes/suites.js";
import type { Arch } from "../release/names.js";
import type { BuildLog } from "./build-log.js";
import type { Linkage } from "../recipes/build-plan.js";
import type { Turns } from "./turns.js";

export interface BuildOptions {
  component: Component;
  /** As typed by the user; undefined means the recipes' default. */
  version: string | undefined;
  /** --source: URL or path of a mirror or local copy; undefined means the recipe's upstream. */
  source: string | undefined;
  allowUnpinned: boolean;
  /** --go-image; undefined means the Debian suite's toolchain. */
  goImage: string | undefined;
  /** --suite: another Debian suite's toolchain than the recipe's (checked against its Go window). */
  suite?: Suite;
  /** --registry: prefix to pull debian:<suite> through (mirror or private registry). */
  registry?: string;
  /** --debian-mirror: package source for the toolchain images. */
  debianMirror?: string;
  outDir: string;
  cacheDir: string;
  targetGlibc: string;
  /** static (default): the binary starts on any glibc; dynamic: upstream's cgo linking, checked against targetGlibc. */
  link: Linkage;
  /** Build container limits; 0 means none. */
  memoryBytes: number;
  nanoCpus: number;
  /** Keep a previous build of the same version in outDir when it still checks out (false: --force). */
  reuseExisting: boolean;
  /** --no-cache: compile without the toolchain's Go build cache volume, from nothing. */
  noCache?: boolean;
}

export interface SourcePatch {
  /** The patched file, relative to the source root. */
  file: string;
  /** Staged tree holding only the patched file, laid over the source in the container. */
  overlay: string;
  stubbed: string[];
  removedImports: string[];
  /** sha256 of the <asset>.patch diff. */
  sha256: string;
}

export interface BuiltBinary {
  /** Staged binary, named as the asset. */
  path: string;
  versionOutput: string;
  /** The binary as read once by the checks: ELF, Go tables, sha256. */
  inspected?: GoBinary;
  /** Why the binary does not enable kmem accounting, once checked. */
  kmemEvidence?: string;
  command: string;
  env: Record<string, string>;
}

/** One build's state, filled in step by step. */
export interface BuildContext {
  options: BuildOptions;
  docker: DockerEngine;
  runId: string;
  labels: Record<string, string>;
  signal: AbortSignal;
  /** Builds of one `build --jobs` run: those on one Go cache compile in turn. */
  turns?: Turns;
  startedAt: Date;
  /** Private temp directory of this run; removed at the end whatever happens. */
  staging: string;
  log: BuildLog;
  warnings: string[];
  artifacts: ArtifactList;
  /** Set by the steps, in order; read them with need(). */
  recipe?: ResolvedRecipe;
  /** The toolchain the build runs on: a Debian suite's, or the user's --go-image. */
  toolchainPlan?: { suite: Suite } | { goImage: string };
  /** The Debian base the suite's toolchain came from (none for --go-image). */
  base?: BaseImage;
  arch?: Arch;
  asset?: string;
  /** A previous build in outDir that still checks out: the run ends with it. */
  reused?: BuildManifest;
  source?: SourceResult;
  patch?: SourcePatch;
  toolchain?: Toolchain;
  /** The Go build cache the compile ran with. */
  goCache?: GoCacheState;
  binary?: BuiltBinary;
  linkage?: GlibcVerdict;
  manifest?: BuildManifest;
  published?: string[];
}

/**
 * A step's outcome: ran; skipped for a reason that is shown (the run goes on);
 * or done, with a reason that is shown, which ends the run (a reuse of earlier artifacts).
 */
export type StepOutcome = void | { skipped: string } | { done: string };

export interface Step {
  /** An "-ing" phrase: the progress line. */
  title: string;
  /** Checks of the user's input: run unseen, so a refusal is one line (the error itself). */
  quiet?: boolean;
  run(ctx: BuildContext, progress: (line: string) => void): Promise<StepOutcome>;
}

/** Accessor for a field an earlier step must have set: a missing one is a bug in the step order. */
export function need<K extends keyof BuildContext>(ctx: BuildContext, key: K): NonNullable<BuildContext[K]> {
  const value = ctx[key];
  if (value === undefined || value === null) throw new Error(`pipeline bug: ${String(key)} is not set before it is used`);
  return value as NonNullable<BuildContext[K]>;
}
