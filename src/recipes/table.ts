import type { Component, RecipeBook } from "./schema.js";
import { SUITES, describeWindow, goWindow, type Suite } from "./suites.js";
import { pinnedTags } from "./load.js";
import { inRange, parseVersion } from "./version.js";

/** One line of the supported-versions table: a recipe, or a refused range. */
export type SupportRow =
  | {
      component: Component;
      range: string;
      pinned: string[];
      method: "build-tag" | "source-patch";
      how: string;
      upstreamGo: string;
      goWindow: { min: string | null; max: string | null };
      suite: Suite | null;
    }
  | { component: Component; range: string; refused: string };

/** What the recipes support, row by row: the table README embeds and `versions --json` prints. */
export function supportRows(books: RecipeBook[]): SupportRow[] {
  return books.flatMap((book) => [
    ...book.recipes.map((r): SupportRow => {
      const vars = Object.entries(r.make.vars).map(([k, v]) => ` ${k}=${v.includes(" ") ? `'${v}'` : v}`).join("");
      const window = goWindow(r);
      return {
        component: book.component,
        range: r.range,
        pinned: pinnedTags(book).filter((t) => inRange(parseVersion(t, book.component, t), r.range)),
        method: r.method,
        how: r.patch ? `stub ${r.patch.stub.join(", ")} in vendored \`${r.patch.file.split("/").at(-1)}\`; \`make ${r.make.target}\`` : `\`make ${r.make.target}${vars}\``,
        upstreamGo: r.go,
        goWindow: { min: window.min ?? null, max: window.max ?? null },
        suite: r.suite ?? null,
      };
    }),
    ...book.refusals.map((refusal): SupportRow => ({ component: book.component, range: refusal.range, refused: refusal.reason })),
  ]);
}

const cell = (s: string) => s.replaceAll("|", "\\|");

/** The supported-versions table, made from the recipes (README embeds it; a test keeps the two equal). */
export function versionsTable(books: RecipeBook[]): string {
  const lines = [
    "| component | versions | how kmem is turned off | Go upstream used | Go accepted | toolchain (Debian suite) |",
    "|---|---|---|---|---|---|",
  ];
  for (const row of supportRows(books)) {
    if ("refused" in row) {
      lines.push(`| ${row.component} | ${cell(row.range)} | refused: ${cell(row.refused)} | — | — | — |`);
      continue;
    }
    const versions = row.pinned.length ? `${row.pinned.join(", ")} (pinned)` : row.range;
    const toolchain = row.suite ? `${row.suite} (Go ${SUITES[row.suite]})` : "none: `--go-image` only, not published";
    const window = describeWindow({ min: row.goWindow.min ?? undefined, max: row.goWindow.max ?? undefined });
    lines.push(`| ${row.component} | ${cell(versions)} | ${cell(row.how)} | ${row.upstreamGo} | ${window} | ${toolchain} |`);
  }
  return lines.join("\n");
}
