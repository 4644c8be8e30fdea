import semver from "semver";
import { UsageError } from "../errors.js";
import { need, type Step } from "../pipeline/context.js";
import { ensureBuilderImage, goMinor } from "../toolchain/builder.js";

export const prepareToolchainStep: Step = {
  title: "Preparing the toolchain",
  async run(ctx, progress) {
    const { recipe, component, tag } = need(ctx, "recipe");
    const goImage = ctx.options.goImage ?? recipe.goImage;
    progress(`builder on ${goImage}`);
    const tc = await ensureBuilderImage(ctx.docker, goImage, ctx.labels, (l) => ctx.log.line(l), ctx.signal);
    ctx.toolchain = tc;
    ctx.log.line(`toolchain ${tc.builderImage} (${tc.builderImageId}) with go${tc.goVersion} on ${goImage}`);
    if (recipe.maxGo && semver.gt(`${goMinor(tc.goVersion)}.0`, `${recipe.maxGo.version}.0`)) {
      throw new UsageError(
        `Go ${tc.goVersion} (from ${goImage}) is too new for ${component} ${tag}: ${recipe.maxGo.reason}; ` +
          `use a Go ${recipe.maxGo.version} or older toolchain, e.g. --go-image "$(nokmem-build toolchain bootstrap --suite bullseye)" (Go 1.15)`,
      );
    }
    if (goMinor(tc.goVersion) !== recipe.go) {
      const w = `toolchain Go ${tc.goVersion} differs from the Go ${recipe.go} upstream built ${recipe.id} with`;
      ctx.warnings.push(w);
      ctx.log.line(`WARNING: ${w}`);
    }
    if (tc.cached) return { skipped: `cached: ${tc.builderImage} (go${tc.goVersion})` };
  },
};
