import type { Command } from "commander";
import { COMPONENTS, loadRecipeBook, recipeFile } from "../recipes/load.js";
import { versionsTable } from "../recipes/table.js";
import type { CommandRuntime } from "./runtime.js";

export function registerVersionsCommand(program: Command, rt: CommandRuntime): void {
  program
    .command("versions")
    .description("print the supported versions, from the recipes, as a Markdown table")
    .action(async () => {
      rt.print(versionsTable(await Promise.all(COMPONENTS.map((c) => loadRecipeBook(recipeFile(c))))));
    });
}
