import type { RecipeBook } from "./schema.js";
import { SUITES, describeWindow, goWindow } from "./suites.js";
import { pinnedTags } from "./load.js";
import { inRange, parseVersion } from "./version.js";

const cell = (s: string) => s.replaceAll("|", "\\|");

/** The supported-versions table, made from the recipes (README embeds it; a test keeps the two equal). */
export function versionsTable(books: RecipeBook[]): string {
  const rows = [
    "| component | versions | how kmem is turned off | Go upstream used | Go accepted | toolchain (Debian suite) |",
    "|---|---|---|---|---|---|",
  ];
  for (const book of books) {
    for (const r of book.recipes) {
      const pinned = pinnedTags(book).filter((t) => inRange(parseVersion(t, book.component, t), r.range));
      const versions = pinned.length ? `${pinned.join(", ")} (pinned)` : `${r.range}`;
      const vars = Object.entries(r.make.vars).map(([k, v]) => ` ${k}=${v.includes(" ") ? `'${v}'` : v}`).join("");
      const how = r.patch ? `stub ${r.patch.stub.join(", ")} in vendored \`${r.patch.file.split("/").at(-1)}\`; \`make ${r.make.target}\`` : `\`make ${r.make.target}${vars}\``;
      const toolchain = r.suite ? `${r.suite} (Go ${SUITES[r.suite]})` : "none: `--go-image` only, not published";
      rows.push(`| ${book.component} | ${cell(versions)} | ${cell(how)} | ${r.go} | ${describeWindow(goWindow(r))} | ${toolchain} |`);
    }
    for (const refusal of book.refusals) rows.push(`| ${book.component} | ${cell(refusal.range)} | refused: ${cell(refusal.reason)} | — | — | — |`);
  }
  return rows.join("\n");
}
