import { UsageError } from "../errors.js";
import type { BuildContext, Step } from "../pipeline/context.js";
import { lookupRecipe } from "../recipes/lookup.js";
import type { ResolvedRecipe } from "../recipes/resolve.js";
import { SUITES, SUITE_NAMES, describeWindow, goWindow, placeInWindow } from "../recipes/suites.js";

/** --go-image as given, else --suite or the recipe's suite, which must ship a Go inside the recipe's window. */
function planToolchain(r: ResolvedRecipe, options: BuildContext["options"]): NonNullable<BuildContext["toolchainPlan"]> {
  if (options.goImage) return { goImage: options.goImage };
  const window = goWindow(r.recipe);
  const what = `${r.component} ${r.tag}`;
  const suite = options.suite ?? r.recipe.suite;
  if (!suite) {
    const known = SUITE_NAMES.map((s) => `${s}: Go ${SUITES[s]}`).join(", ");
    throw new UsageError(`${what} has no Debian toolchain: it needs ${describeWindow(window)} and no suite ships one (${known}); pass --go-image with such a Go image`);
  }
  const place = placeInWindow(SUITES[suite], { ...window, min: window.min?.split(".").slice(0, 2).join(".") });
  if (place === "too-new") throw new UsageError(`--suite ${suite} ships Go ${SUITES[suite]}, too new for ${what}: ${r.recipe.maxGo!.reason}; use --suite ${r.recipe.suite ?? "bullseye"} or a Go ${r.recipe.maxGo!.version} image`);
  if (place === "too-old") throw new UsageError(`--suite ${suite} ships Go ${SUITES[suite]}, older than ${what} accepts: it needs go${r.recipe.minGo!.version} or newer (${r.recipe.minGo!.source}); use ${r.recipe.suite ? `--suite ${r.recipe.suite}` : "--go-image with a newer Go"}`);
  return { suite };
}

/** The version picks its recipe and toolchain; a malformed or refused version, or a flag the recipe cannot honour, fails here in milliseconds. */
export const resolveRecipeStep: Step = {
  title: "Resolving the recipe",
  quiet: true,
  async run(ctx, progress) {
    const { component, version, allowUnpinned, link } = ctx.options;
    const resolved = await lookupRecipe(component, version, { allowUnpinned });
    if (link === "dynamic" && !Object.keys(resolved.recipe.staticEnv).length) {
      throw new UsageError(`--link dynamic: ${resolved.component} ${resolved.tag} is built static by its Makefile (make ${resolved.recipe.make.target}); drop --link`);
    }
    ctx.recipe = resolved;
    if (resolved.stamp !== resolved.tag.replace(/^v/, "")) {
      ctx.warnings.push(`${resolved.component} ${resolved.tag} is the same upstream code as ${resolved.stamp}: its binary reports version ${resolved.stamp}, as upstream's does`);
    }
    ctx.toolchainPlan = planToolchain(resolved, ctx.options);
    const on = "suite" in ctx.toolchainPlan ? `Debian ${ctx.toolchainPlan.suite} (Go ${SUITES[ctx.toolchainPlan.suite]})` : ctx.toolchainPlan.goImage;
    progress(`${resolved.component} ${resolved.tag}: recipe ${resolved.recipe.id} (${resolved.recipe.method}), toolchain ${on}`);
  },
};
