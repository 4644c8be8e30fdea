import { UserError } from "../errors.js";
import { kmemVerdict } from "../binary/go-binary.js";
import { need, type Step } from "../pipeline/context.js";

/** The question the product exists for, asked of the bytes about to be published: is kmem accounting off? */
export const checkKmemStep: Step = {
  title: "Checking kmem accounting is off",
  async run(ctx, progress) {
    const binary = need(ctx, "binary");
    const inspected = binary.inspected;
    if (!inspected) throw new Error("pipeline bug: kmem is checked before the binary was read");
    const verdict = kmemVerdict(inspected);
    if (verdict.kmem !== "off") {
      throw new UserError(`the built binary enables kmem accounting (${verdict.evidence}); nothing was written: check the recipe's build tags or patch against this source`);
    }
    binary.kmemEvidence = verdict.evidence;
    progress(verdict.evidence);
  },
};
