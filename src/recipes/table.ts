import type { RecipeBook } from "./schema.js";
import { pinnedTags } from "./load.js";
import { inRange, parseVersion } from "./version.js";

/** The supported-versions table, made from the recipes (README embeds it; a test keeps the two equal). */
export function versionsTable(books: RecipeBook[]): string {
  const rows = ["| component | version | commit | layout | method | Go (upstream) | Go image |", "|---|---|---|---|---|---|---|"];
  for (const book of books) {
    for (const tag of pinnedTags(book)) {
      const version = parseVersion(tag, book.component, tag);
      const r = book.recipes.find((x) => inRange(version, x.range))!;
      const method = Object.entries(r.make.vars).map(([k, v]) => `${k}='${v}'`).join(" ");
      rows.push(`| ${book.component} | ${tag} | \`${book.pins[tag]!.slice(0, 12)}\` | ${r.layout} | \`make ${r.make.target} ${method}\` | ${r.go} | \`${r.goImage}\` |`);
    }
    for (const refusal of book.refusals) rows.push(`| ${book.component} | ${refusal.range} | — | — | refused: ${refusal.reason} | — | — |`);
  }
  return rows.join("\n");
}
