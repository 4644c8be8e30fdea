import { chmod, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { throwIfInterrupted } from "../errors.js";
import { sha256File, sumLine } from "../release/checksums.js";
import type { BuildManifest } from "../release/manifest.js";
import { publishArtifacts } from "../release/publish.js";
import { need, type Step } from "../pipeline/context.js";
import { describeBuild } from "./describe-build.js";

/** Stages checksum and manifest beside the binary, then publishes all of them at once. */
export const writeArtifactsStep: Step = {
  title: "Writing the artifacts",
  async run(ctx, progress) {
    const binary = need(ctx, "binary");
    const asset = need(ctx, "asset");
    await chmod(binary.path, 0o755);
    // The checks read the bytes once already; chmod does not change them.
    const sha256 = binary.inspected?.sha256 ?? (await sha256File(binary.path));
    const { size } = await stat(binary.path);
    const stage = (name: string, text: string) => {
      const file = path.join(ctx.staging, name);
      return writeFile(file, text).then(() => file);
    };

    ctx.artifacts.add("binary", binary.path);
    ctx.artifacts.add("checksum", await stage(`${asset}.sha256`, sumLine(sha256, asset)));
    // The log's last line is written before the manifest lists it with its sha256.
    ctx.log.line(`built ${asset} sha256 ${sha256}`);
    ctx.artifacts.add("log", ctx.log.file, `${asset}.log`);
    const files: BuildManifest["files"] = [];
    for (const a of ctx.artifacts.all()) {
      if (a.kind !== "manifest") files.push({ name: a.name, kind: a.kind, sha256: a.kind === "binary" ? sha256 : await sha256File(a.path) });
    }
    ctx.manifest = describeBuild(ctx, sha256, size, files);
    ctx.artifacts.add("manifest", await stage(`${asset}.json`, `${JSON.stringify(ctx.manifest, null, 2)}\n`));

    // Last point where an interrupt leaves the output directory untouched.
    throwIfInterrupted(ctx.signal);
    ctx.published = await publishArtifacts(ctx.options.outDir, ctx.artifacts.all(), ctx.signal);
    progress(`${ctx.published.length} files in ${ctx.options.outDir}`);
  },
};
