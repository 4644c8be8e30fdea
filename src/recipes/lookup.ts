import { COMPONENTS, loadRecipeBook, publishedTags, recipeFile } from "./load.js";
import { resolveRecipe, type ResolveOptions, type ResolvedRecipe } from "./resolve.js";
import type { Component, RecipeBook } from "./schema.js";

/** One component's recipes, from the recipes/ shipped with the tool. */
export const componentRecipes = (component: Component): Promise<RecipeBook> => loadRecipeBook(recipeFile(component));

export const allRecipes = (): Promise<RecipeBook[]> => Promise.all(COMPONENTS.map(componentRecipes));

/** The recipe for a component version as the user typed it; malformed and refused versions throw the user's error. */
export async function lookupRecipe(component: Component, version: string | undefined, opts: ResolveOptions = {}): Promise<ResolvedRecipe> {
  return resolveRecipe(await componentRecipes(component), version, opts);
}

export interface Target {
  component: Component;
  version: string;
}

/** Every version the recipes publish, for the release matrix and `build --all`. */
export async function publishedTargets(): Promise<Target[]> {
  const books = await allRecipes();
  return books.flatMap((book) => publishedTags(book).map((version) => ({ component: book.component, version })));
}
