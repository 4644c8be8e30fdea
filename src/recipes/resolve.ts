import { UsageError, UserError } from "../errors.js";
import type { Recipe, RecipeBook } from "./schema.js";
import { pinnedTags } from "./load.js";
import { inRange, parseVersion } from "./version.js";

export interface ResolvedRecipe {
  component: RecipeBook["component"];
  tag: string;
  upstream: string;
  importPath: string;
  recipe: Recipe;
  /** The version the binary reports ({version} in the recipe's expected output): the tag's, unless upstream stamps another. */
  stamp: string;
  /** The commit the tag must check out at; undefined when building an unpinned tag. */
  pinnedCommit: string | undefined;
  requirePins: boolean;
}

/** A well-formed version the recipes decline on purpose (no nokmem tag yet, or nothing left to disable): exit 2. */
export class RefusedVersionError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = "RefusedVersionError";
  }
}

export interface ResolveOptions {
  /** Accept a tag the recipes do not pin (private forks, fixtures). */
  allowUnpinned?: boolean;
}

export function resolveRecipe(book: RecipeBook, input: string | undefined, opts: ResolveOptions = {}): ResolvedRecipe {
  const known = pinnedTags(book);
  const example = book.defaultVersion ?? known.at(-1) ?? "v1.2.3";
  // An empty VERSION ("") is a malformed one, worded as such; only a missing one takes the default.
  const requested = input ?? book.defaultVersion;
  if (requested === undefined) throw new UsageError(`${book.component}: a VERSION is required, such as ${example}`);
  const version = parseVersion(requested, book.component, example);

  const refusal = book.refusals.find((r) => inRange(version, r.range));
  if (refusal) throw new RefusedVersionError(`${book.component} ${version.tag} is not rebuilt: ${refusal.reason}`);

  const recipe = book.recipes.find((r) => inRange(version, r.range));
  if (!recipe) {
    throw new UsageError(`${book.component} ${version.tag} is not covered by any recipe; supported: ${known.join(", ")}`);
  }
  const pinnedCommit = book.pins[version.tag];
  if (!pinnedCommit && book.requirePins && !opts.allowUnpinned) {
    throw new UsageError(
      `${book.component} ${version.tag} is not a known release (known: ${known.join(", ")}); ` +
        "pass --allow-unpinned to build a tag of a private fork",
    );
  }
  return {
    component: book.component,
    tag: version.tag,
    upstream: book.upstream,
    importPath: book.importPath,
    recipe,
    stamp: book.stamps[version.tag] ?? version.tag.replace(/^v/, ""),
    pinnedCommit,
    requirePins: book.requirePins,
  };
}
