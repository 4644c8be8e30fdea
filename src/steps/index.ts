import type { Step } from "../pipeline/context.js";
import { resolveRecipeStep } from "./resolve-recipe.js";
import { checkDirectoriesStep } from "./check-directories.js";
import { checkEngineStep } from "./check-engine.js";
import { reusePreviousStep } from "./reuse-previous.js";
import { checkSourceStep } from "./check-source.js";
import { fetchSourceStep } from "./fetch-source.js";
import { patchSourceStep } from "./patch-source.js";
import { prepareToolchainStep } from "./prepare-toolchain.js";
import { compileStep } from "./compile.js";
import { checkBinaryStep } from "./check-binary.js";
import { checkKmemStep } from "./check-kmem.js";
import { writeArtifactsStep } from "./write-artifacts.js";

/** Cheap checks first: a refused version or a missing engine fails before anything is downloaded. */
const preflightSteps: readonly Step[] = [
  resolveRecipeStep, // the version picks its recipe, or is refused with the reason
  checkDirectoriesStep, // --out and --cache-dir take writes
  checkEngineStep, // the engine answers; its architecture names the asset; leftovers swept
  reusePreviousStep, // `build`: artifacts already in --out that still check out end the run
  checkSourceStep, // --source names a repository that exists
];

const compileSteps: readonly Step[] = [
  prepareToolchainStep, // Go image + builder image, built once and reused; a Go outside the recipe's window is refused before any clone
  fetchSourceStep, // the pinned tag, from the cache or the source
  patchSourceStep, // kubelet before v1.14: stub the vendored kmem functions
  compileStep, // make in a network-less container
  checkBinaryStep, // starts on the target glibc; stamped with version and commit
  checkKmemStep, // kmem accounting is off in these very bytes, or nothing is written
  writeArtifactsStep, // binary, .sha256, .json, .log and SHA256SUMS, atomically
];

/** One build, top to bottom. */
export const buildSteps: readonly Step[] = [...preflightSteps, ...compileSteps];
