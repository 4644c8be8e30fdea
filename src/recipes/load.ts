import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { UserError } from "../errors.js";
import { PACKAGE_ROOT } from "../package-root.js";
import { recipeBookSchema, type Component, type RecipeBook } from "./schema.js";
import { SUITES, describeWindow, goWindow, suitesFor } from "./suites.js";
import { compareTags, inRange, parseVersion } from "./version.js";

export const RECIPES_DIR = path.join(PACKAGE_ROOT, "recipes");

export const COMPONENTS: readonly Component[] = ["runc", "kubelet"];

export function recipeFile(component: Component, dir = RECIPES_DIR): string {
  return path.join(dir, `${component}.yaml`);
}

export async function loadRecipeBook(file: string): Promise<RecipeBook> {
  let raw: unknown;
  try {
    // Merge keys (<<: *common) let recipes share their common fields.
    raw = parseYaml(await readFile(file, "utf8"), { merge: true });
  } catch (err) {
    throw new UserError(`recipe file ${file}: ${(err as Error).message.split("\n")[0]}`);
  }
  const parsed = recipeBookSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? issue.path.join(".") : "(top level)";
    throw new UserError(`recipe file ${file}: field ${field}: ${issue.message}`);
  }
  checkConsistency(file, parsed.data);
  return parsed.data;
}

/**
 * Catches recipe mistakes that the schema alone cannot: every pinned tag must
 * resolve to exactly one recipe, and a recipe's suite must ship a Go inside its
 * window (or, with no suite, no known suite may).
 */
function checkConsistency(file: string, book: RecipeBook): void {
  book.recipes.forEach((r, i) => {
    const fits = suitesFor(goWindow(r));
    if (r.suite && !fits.includes(r.suite)) {
      throw new UserError(`recipe file ${file}: field recipes.${i}.suite: ${r.suite} ships Go ${SUITES[r.suite]}, outside ${r.id}'s Go window ${describeWindow(goWindow(r))}`);
    }
    if (!r.suite && fits.length) throw new UserError(`recipe file ${file}: field recipes.${i}.suite: missing, and ${fits.join(", ")} fits ${r.id}'s Go window`);
  });
  for (const tag of Object.keys(book.stamps)) {
    if (!book.pins[tag]) throw new UserError(`recipe file ${file}: field stamps.${tag}: only a pinned tag may carry another version's stamp`);
  }
  const tags = [...Object.keys(book.pins), ...(book.published ?? [])];
  if (book.defaultVersion) tags.push(book.defaultVersion);
  for (const tag of tags) {
    const version = parseVersion(tag, book.component, "v1.2.3");
    const matches = book.recipes.filter((r) => inRange(version, r.range));
    const refused = book.refusals.find((r) => inRange(version, r.range));
    if (matches.length !== 1 || refused) {
      throw new UserError(
        `recipe file ${file}: field pins/published ${tag}: matches ${matches.length} recipes` +
          (refused ? ` and a refusal (${refused.range})` : "") +
          "; each pinned tag must match exactly one recipe and no refusal",
      );
    }
  }
}

export function pinnedTags(book: RecipeBook): string[] {
  return Object.keys(book.pins).sort(compareTags);
}

/** The versions the release workflow publishes, in version order. */
export function publishedTags(book: RecipeBook): string[] {
  return [...new Set(book.published ?? pinnedTags(book))].sort(compareTags);
}
