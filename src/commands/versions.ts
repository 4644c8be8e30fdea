import type { Command } from "commander";
import { allRecipes, lookupRecipe, publishedTargets } from "../recipes/lookup.js";
import { versionsTable } from "../recipes/table.js";
import { SUITES, type Suite } from "../toolchain/bootstrap.js";
import type { CommandRuntime } from "./runtime.js";

/** The newest registry-less suite whose Go the recipe accepts (kubelet <= 1.22 needs Go <= 1.17: bullseye). */
function suiteFor(maxGo: string | undefined): Suite {
  const fits = (Object.keys(SUITES) as Suite[]).filter((s) => !maxGo || Number(SUITES[s].split(".")[1]) <= Number(maxGo.split(".")[1]));
  return fits[0] ?? "bullseye";
}

export function registerVersionsCommand(program: Command, rt: CommandRuntime): void {
  program
    .command("versions")
    .description("print the supported versions, from the recipes, as a Markdown table; --published: the release matrix as JSON")
    .option("--published", "print the versions the release workflow builds, with the bootstrap suite each needs, as JSON")
    .action(async (flags: { published?: boolean }) => {
      if (!flags.published) {
        rt.print(versionsTable(await allRecipes()));
        return;
      }
      const matrix = [];
      for (const t of await publishedTargets()) {
        const { recipe } = await lookupRecipe(t.component, t.version, { allowUnpinned: true });
        matrix.push({ ...t, suite: suiteFor(recipe.maxGo?.version) });
      }
      rt.print(JSON.stringify(matrix));
    });
}
