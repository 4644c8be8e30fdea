import path from "node:path";
import { UsageError } from "../errors.js";
import { need, type BuildContext, type Step } from "../pipeline/context.js";
import { goMinor, placeInWindow, goWindow } from "../recipes/suites.js";
import { TOOLCHAIN_PROBES, ensureBuilderImage, ensureGoImage } from "../toolchain/builder.js";
import { ensureSuiteGoImage } from "../toolchain/go-image.js";

/** Refuses a Go outside the recipe's window, before anything is built on it or cloned. */
function acceptGo(ctx: BuildContext, goImage: string): (goVersion: string) => void {
  const { recipe, component, tag } = need(ctx, "recipe");
  const fix = recipe.suite ? `drop --go-image to build on Debian ${recipe.suite}'s Go, or use --suite ${recipe.suite}` : "pass --go-image with a Go inside that window";
  return (goVersion) => {
    const place = placeInWindow(goVersion, goWindow(recipe));
    if (place === "too-new") {
      throw new UsageError(`Go ${goVersion} (from ${goImage}) is too new for ${component} ${tag}: ${recipe.maxGo!.reason}; use a Go ${recipe.maxGo!.version} or older toolchain: ${fix}`);
    }
    if (place === "too-old") {
      throw new UsageError(`Go ${goVersion} (from ${goImage}) is too old for ${component} ${tag}: it needs go${recipe.minGo!.version} or newer (${recipe.minGo!.source}); ${fix}`);
    }
  };
}

export const prepareToolchainStep: Step = {
  title: "Preparing the toolchain",
  async run(ctx, progress) {
    const { recipe } = need(ctx, "recipe");
    const plan = need(ctx, "toolchainPlan");
    const onLine = (line: string) => ctx.log.line(line);
    let goImage: string;
    let goImageId: string;
    if ("suite" in plan) {
      progress(`Debian ${plan.suite} toolchain`);
      const g = await ensureSuiteGoImage(ctx.docker, plan.suite, {
        registry: ctx.options.registry,
        debianMirror: ctx.options.debianMirror,
        onLine: (line) => {
          onLine(line);
          progress(line);
        },
        signal: ctx.signal,
      });
      ({ image: goImage, id: goImageId } = g);
      ctx.base = g.base;
      ctx.log.line(`base ${g.base.image} (${g.base.id}) from ${g.base.origin}: ${g.base.from}`);
    } else {
      goImage = plan.goImage;
      goImageId = await ensureGoImage(ctx.docker, goImage, onLine);
    }
    progress(`builder on ${goImage}`);
    const tc = await ensureBuilderImage(ctx.docker, goImage, goImageId, {
      // The suite's Go image already reads packages from the mirror; a --go-image gets one only when asked.
      debianMirror: "suite" in plan ? undefined : ctx.options.debianMirror,
      accept: acceptGo(ctx, goImage),
      labels: ctx.labels,
      onLine,
      signal: ctx.signal,
      probeCache: path.join(ctx.options.cacheDir, TOOLCHAIN_PROBES),
    });
    ctx.toolchain = tc;
    ctx.log.line(`toolchain ${tc.builderImage} (${tc.builderImageId}) with go${tc.goVersion} on ${goImage}`);
    if (goMinor(tc.goVersion) !== recipe.go) {
      const w = `toolchain Go ${tc.goVersion} differs from the Go ${recipe.go} upstream built ${recipe.id} with`;
      ctx.warnings.push(w);
      ctx.log.line(`WARNING: ${w}`);
    }
    if (tc.cached) return { skipped: `cached: ${tc.builderImage} (go${tc.goVersion})` };
  },
};
