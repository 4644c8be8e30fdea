import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { createTwoFilesPatch } from "diff";
import { simpleGit } from "simple-git";
import { UserError } from "../errors.js";
import { sha256File } from "../release/checksums.js";
import { need, type Step } from "../pipeline/context.js";
import { stubFunctions } from "../patch/stub-functions.js";

/**
 * Before v1.14 kubelet has no nokmem tag: the vendored runc functions that
 * enable kmem accounting are stubbed to `return nil`. The file is read from the
 * cached clone's objects, which stay pristine; the patched file is staged and
 * laid over the source in the container.
 */
export const patchSourceStep: Step = {
  title: "Patching the source",
  async run(ctx, progress) {
    const { recipe, tag } = need(ctx, "recipe");
    if (!recipe.patch) return { skipped: `not needed: ${recipe.id} turns kmem off with a build tag` };
    const source = need(ctx, "source");
    const asset = need(ctx, "asset");
    const { file, stub } = recipe.patch;

    let original: string;
    try {
      original = await simpleGit(source.dir).show([`${source.commit}:${file}`]);
    } catch {
      throw new UserError(`cannot patch ${file}: no such file in ${ctx.options.component} ${tag}; this source does not look like the release the recipe expects`);
    }
    const result = stubFunctions(file, original, stub);
    const overlay = path.join(ctx.staging, "overlay");
    await mkdir(path.dirname(path.join(overlay, file)), { recursive: true });
    await writeFile(path.join(overlay, file), result.text);

    const patchFile = path.join(ctx.staging, `${asset}.patch`);
    await writeFile(patchFile, createTwoFilesPatch(`a/${file}`, `b/${file}`, original, result.text, "", "", { context: 3 }));
    ctx.artifacts.add("patch", patchFile);
    ctx.patch = { file, overlay, stubbed: stub, removedImports: result.removedImports, sha256: await sha256File(patchFile) };
    progress(`${stub.join(", ")} → return nil; removed unused imports: ${result.removedImports.join(", ") || "none"}`);
  },
};
