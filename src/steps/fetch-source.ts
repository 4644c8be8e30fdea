import { need, type Step } from "../pipeline/context.js";
import { fetchSource } from "../source/fetch.js";

export const fetchSourceStep: Step = {
  title: "Fetching the source",
  async run(ctx, progress) {
    const recipe = need(ctx, "recipe");
    const source = ctx.options.source ?? recipe.upstream;
    progress(`${recipe.tag} from ${source}`);
    ctx.source = await fetchSource({
      component: recipe.component,
      tag: recipe.tag,
      source,
      pinnedCommit: recipe.pinnedCommit,
      allowUnpinned: ctx.options.allowUnpinned,
      requirePins: recipe.requirePins,
      cacheDir: ctx.options.cacheDir,
      signal: ctx.signal,
      onProgress: (line) => progress(`${recipe.tag} from ${source}: ${line}`),
    });
    ctx.warnings.push(...ctx.source.warnings);
    ctx.source.warnings.forEach((w) => ctx.log.line(`WARNING: ${w}`));
    ctx.log.line(`source ${source} at ${ctx.source.commit} (${ctx.source.pinned ? "pinned" : "not pinned"})`);
    if (ctx.source.cached) return { skipped: `cached: ${recipe.tag} at ${ctx.source.commit.slice(0, 12)}` };
  },
};
