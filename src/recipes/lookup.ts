import { COMPONENTS, loadRecipeBook, publishedTags, recipeFile } from "./load.js";
import { resolveRecipe, type ResolveOptions, type ResolvedRecipe } from "./resolve.js";
import type { Component, RecipeBook } from "./schema.js";
import { describeWindow, goWindow, type Suite } from "./suites.js";

const books = new Map<Component, Promise<RecipeBook>>();

/** One component's recipes, from the recipes/ shipped with the tool: read and checked once per process, as they cannot change under it. */
export function componentRecipes(component: Component): Promise<RecipeBook> {
  let book = books.get(component);
  if (!book) {
    books.set(component, (book = loadRecipeBook(recipeFile(component))));
    // A failed read is not kept: the next caller tries again and gets its own error.
    book.catch(() => books.delete(component));
  }
  return book;
}

export const allRecipes = (): Promise<RecipeBook[]> => Promise.all(COMPONENTS.map(componentRecipes));

/** The recipe for a component version as the user typed it; malformed and refused versions throw the user's error. */
export async function lookupRecipe(component: Component, version: string | undefined, opts: ResolveOptions = {}): Promise<ResolvedRecipe> {
  return resolveRecipe(await componentRecipes(component), version, opts);
}

export interface Target {
  component: Component;
  version: string;
}

export interface ReleasePlan {
  /** What the release workflow builds, each on its recipe's Debian suite. */
  published: Array<Target & { suite: Suite }>;
  /** Versions the recipes list for publishing that no Debian suite's Go can build, with the reason. */
  leftOut: Array<Target & { reason: string }>;
}

/** Every version the recipes publish, for the release matrix and `build --all`, and those left out. */
export async function releasePlan(): Promise<ReleasePlan> {
  const plan: ReleasePlan = { published: [], leftOut: [] };
  for (const book of await allRecipes()) {
    for (const version of publishedTags(book)) {
      const { recipe } = resolveRecipe(book, version, { allowUnpinned: true });
      if (recipe.suite) plan.published.push({ component: book.component, version, suite: recipe.suite });
      else plan.leftOut.push({ component: book.component, version, reason: `no Debian suite ships ${describeWindow(goWindow(recipe))}` });
    }
  }
  return plan;
}

export const publishedTargets = async (): Promise<Target[]> => (await releasePlan()).published.map(({ component, version }) => ({ component, version }));
