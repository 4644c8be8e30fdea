import { UserError } from "../errors.js";
import { readElfLinkage } from "../artifacts/elf.js";
import { checkGlibc } from "../artifacts/glibc.js";
import { need, type Step } from "../pipeline/context.js";

/** The binary must start on the node (static, or old enough glibc) and carry the upstream version and commit. */
export const checkBinaryStep: Step = {
  title: "Checking the binary",
  async run(ctx, progress) {
    const binary = need(ctx, "binary");
    const { recipe, tag } = need(ctx, "recipe");
    const source = need(ctx, "source");

    const verdict = checkGlibc(await readElfLinkage(binary.path), ctx.options.targetGlibc);
    ctx.linkage = verdict;
    if (!verdict.ok) {
      throw new UserError(
        `the binary needs ${verdict.tooNew.slice(0, 3).join(", ")}, newer than the target glibc ${ctx.options.targetGlibc}: ` +
          "build it static, or use a toolchain base with an older glibc (--go-image)",
      );
    }

    const fill = (line: string) =>
      line.replaceAll("{version}", tag.replace(/^v/, "")).replaceAll("{tag}", tag).replaceAll("{commit}", source.commit);
    const lines = binary.versionOutput.split("\n").map((l) => l.trim());
    const missing = recipe.version.expect.map(fill).filter((want) => !lines.includes(want));
    if (missing.length || binary.versionOutput.includes("-dirty")) {
      throw new UserError(
        `the binary's version stamp is wrong: \`${recipe.version.args.join(" ")}\` printed ` +
          `${JSON.stringify(binary.versionOutput)}, expected ${missing.length ? JSON.stringify(missing) : "no -dirty"}`,
      );
    }
    progress(`${verdict.linkage}${verdict.maxGlibc ? `, needs glibc ${verdict.maxGlibc}` : ""}; ${lines.join(" / ")}`);
  },
};
