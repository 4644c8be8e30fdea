import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { allRecipes } from "../../src/recipes/lookup.js";
import { versionsTable } from "../../src/recipes/table.js";

describe("README", () => {
  it("shows the supported-versions table exactly as the recipes make it", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const block = readme.match(/<!-- versions:start -->\n([\s\S]*?)\n<!-- versions:end -->/)?.[1];
    expect(block).toBe(versionsTable(await allRecipes()));
  });
});
