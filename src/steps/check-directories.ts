import { checkWritableDir } from "../fs/writable.js";
import type { Step } from "../pipeline/context.js";

/** --out and --cache-dir must take writes before minutes of building, not after. */
export const checkDirectoriesStep: Step = {
  title: "Checking the output and cache directories",
  quiet: true,
  async run(ctx) {
    await checkWritableDir(ctx.options.outDir, "--out");
    await checkWritableDir(ctx.options.cacheDir, "--cache-dir");
  },
};
