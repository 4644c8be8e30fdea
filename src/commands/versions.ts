import type { Command } from "commander";
import { allRecipes, releasePlan } from "../recipes/lookup.js";
import { supportRows, versionsTable } from "../recipes/table.js";
import { jsonOption } from "./options.js";
import type { CommandRuntime } from "./runtime.js";

export function registerVersionsCommand(program: Command, rt: CommandRuntime): void {
  program
    .command("versions")
    .description("print the supported versions, from the recipes, as a Markdown table; --published: the release matrix as JSON")
    .option("--published", "print the versions the release workflow builds, with the Debian suite each builds on, as JSON")
    .addOption(jsonOption("the supported versions (with --published: the matrix and what is left out)"))
    .action(async (flags: { published?: boolean; json?: boolean }) => {
      if (!flags.published) {
        const books = await allRecipes();
        rt.print(flags.json ? JSON.stringify({ ok: true, versions: supportRows(books) }, null, 2) : versionsTable(books));
        return;
      }
      const plan = await releasePlan();
      if (flags.json) return rt.printJson({ ok: true, ...plan });
      for (const t of plan.leftOut) rt.warn(`not published: ${t.component} ${t.version}: ${t.reason} (build it with --go-image)`);
      // The release workflow reads this line as its matrix.
      rt.print(JSON.stringify(plan.published));
    });
}
