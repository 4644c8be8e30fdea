import type { Command } from "commander";
import { allRecipes, releasePlan } from "../recipes/lookup.js";
import { versionsTable } from "../recipes/table.js";
import type { CommandRuntime } from "./runtime.js";

export function registerVersionsCommand(program: Command, rt: CommandRuntime): void {
  program
    .command("versions")
    .description("print the supported versions, from the recipes, as a Markdown table; --published: the release matrix as JSON")
    .option("--published", "print the versions the release workflow builds, with the Debian suite each builds on, as JSON")
    .action(async (flags: { published?: boolean }) => {
      if (!flags.published) {
        rt.print(versionsTable(await allRecipes()));
        return;
      }
      const plan = await releasePlan();
      for (const t of plan.leftOut) rt.warn(`not published: ${t.component} ${t.version}: ${t.reason} (build it with --go-image)`);
      rt.print(JSON.stringify(plan.published));
    });
}
