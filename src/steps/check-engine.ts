import { UserError } from "../errors.js";
import { sweepLeftovers } from "../docker/labels.js";
import { need, type Step } from "../pipeline/context.js";
import { ARCHES, assetArch, assetName } from "../release/names.js";

/** The engine must answer before sources are fetched; its architecture names the asset. */
export const checkEngineStep: Step = {
  title: "Checking the Docker engine",
  async run(ctx, progress) {
    await ctx.docker.ping();
    // Asked at once: leftovers of a dead run are swept whatever the engine's architecture.
    const [info, swept] = await Promise.all([ctx.docker.engineInfo(), sweepLeftovers(ctx.docker)]);
    const arch = assetArch(info.arch);
    if (!arch) throw new UserError(`the Docker engine at ${ctx.docker.endpoint} runs on ${info.arch}: nokmem-build builds for ${ARCHES.join(" and ")} only`);
    ctx.arch = arch;
    const recipe = need(ctx, "recipe");
    ctx.asset = assetName({ component: recipe.component, version: recipe.tag, arch });
    progress(`engine ${info.version} (${info.os}/${arch}) at ${ctx.docker.endpoint}`);
    if (swept) ctx.log.line(`removed ${swept} container(s) left by an interrupted earlier run`);
  },
};
