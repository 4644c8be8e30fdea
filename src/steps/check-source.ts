import type { Step } from "../pipeline/context.js";
import { gitUrl } from "../source/fetch.js";

/** A --source path that does not exist is an input error: said before the toolchain is made, not after. */
export const checkSourceStep: Step = {
  title: "Checking the source",
  quiet: true,
  async run(ctx) {
    if (ctx.options.source) gitUrl(ctx.options.source);
  },
};
