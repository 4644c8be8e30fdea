import { UserError } from "../errors.js";
import { inspectGoBinary } from "../binary/go-binary.js";
import { checkGlibc, describeGlibc } from "../binary/glibc.js";
import { need, type Step } from "../pipeline/context.js";
import { fillTemplate } from "../recipes/template.js";

/** The binary must start on the node (static, or old enough glibc) and carry the upstream version and commit. */
export const checkBinaryStep: Step = {
  title: "Checking the binary",
  async run(ctx, progress) {
    const binary = need(ctx, "binary");
    const { recipe, tag, stamp } = need(ctx, "recipe");
    const source = need(ctx, "source");

    // Read once here for every check after it (glibc, kmem) and for the sha256 that is published.
    binary.inspected = await inspectGoBinary(binary.path).catch((err: unknown) => {
      throw err instanceof UserError ? new UserError(`the built ${err.message}`) : err;
    });
    const verdict = checkGlibc(binary.inspected.elf, ctx.options.targetGlibc);
    ctx.linkage = verdict;
    if (!verdict.ok) {
      throw new UserError(
        `the binary ${describeGlibc(verdict, ctx.options.targetGlibc)}: build it static, or use a toolchain base with an older glibc (--go-image)`,
      );
    }

    const expected = recipe.version.expect.map((line) => fillTemplate(line, { tag, commit: source.commit, version: stamp }));
    const lines = binary.versionOutput.split("\n").map((l) => l.trim());
    const missing = expected.filter((want) => !lines.includes(want));
    const extra = recipe.version.exact && lines.length !== expected.length;
    if (missing.length || extra || binary.versionOutput.includes("-dirty")) {
      throw new UserError(
        `the binary's version stamp is wrong: \`${recipe.version.args.join(" ")}\` printed ` +
          `${JSON.stringify(binary.versionOutput)}, expected ${JSON.stringify(expected.join("\n"))}${recipe.version.exact ? " exactly" : ""} and no -dirty`,
      );
    }
    progress(`${verdict.linkage}${verdict.maxGlibc ? `, needs glibc ${verdict.maxGlibc}` : ""}; ${lines.join(" / ")}`);
  },
};
