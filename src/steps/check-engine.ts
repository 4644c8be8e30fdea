import { sweepLeftovers } from "../docker/labels.js";
import { assetName, type Arch } from "../download/release-urls.js";
import { need, type Step } from "../pipeline/context.js";

const ARCHES: Record<string, string> = { amd64: "amd64", arm64: "arm64", x86_64: "amd64", aarch64: "arm64" };

/** The engine must answer before sources are fetched; its architecture names the asset. */
export const checkEngineStep: Step = {
  title: "Checking the Docker engine",
  async run(ctx, progress) {
    await ctx.docker.ping();
    const info = await ctx.docker.engineInfo();
    ctx.arch = ARCHES[info.arch] ?? info.arch;
    const recipe = need(ctx, "recipe");
    ctx.asset = assetName({ component: recipe.component, version: recipe.tag, arch: ctx.arch as Arch });
    const swept = await sweepLeftovers(ctx.docker);
    progress(`engine ${info.version} (${info.os}/${ctx.arch}) at ${ctx.docker.endpoint}`);
    if (swept) ctx.log.line(`removed ${swept} container(s) left by an interrupted earlier run`);
  },
};
