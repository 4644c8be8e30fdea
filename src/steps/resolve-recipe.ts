import { UsageError } from "../errors.js";
import type { Step } from "../pipeline/context.js";
import { lookupRecipe } from "../recipes/lookup.js";

/** The version picks its recipe; a malformed or refused version, or a flag the recipe cannot honour, fails here in milliseconds. */
export const resolveRecipeStep: Step = {
  title: "Resolving the recipe",
  async run(ctx, progress) {
    const { component, version, allowUnpinned, link } = ctx.options;
    const resolved = await lookupRecipe(component, version, { allowUnpinned });
    if (link === "dynamic" && !Object.keys(resolved.recipe.staticEnv).length) {
      throw new UsageError(`--link dynamic: ${resolved.component} ${resolved.tag} is built static by its Makefile (make ${resolved.recipe.make.target}); drop --link`);
    }
    ctx.recipe = resolved;
    progress(`${resolved.component} ${resolved.tag}: recipe ${resolved.recipe.id} (${resolved.recipe.method})`);
  },
};
