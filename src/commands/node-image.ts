import type { Command } from "commander";
import { connectDocker } from "../docker/engine.js";
import { ensureNodeImage } from "../toolchain/node-image.js";
import { debianMirrorOption, jsonOption, registryOption } from "./options.js";
import type { CommandRuntime } from "./runtime.js";

/** `nokmem-build node-image`: the CLI with its own runtime, for nodes whose glibc no Node.js build starts on. */
export function registerNodeImageCommand(program: Command, rt: CommandRuntime): void {
  program
    .command("node-image")
    .description("make (or reuse) the image that runs doctor, verify and install on a node with nothing but its container engine, and print its reference")
    .addOption(registryOption())
    .addOption(debianMirrorOption())
    .option("--force", "rebuild the image even when it is current")
    .addOption(jsonOption())
    .action(async (flags: { registry?: string; debianMirror?: string; force?: boolean; json?: boolean }) => {
      const docker = connectDocker();
      await docker.ping();
      const result = await ensureNodeImage(docker, {
        registry: flags.registry,
        debianMirror: flags.debianMirror,
        force: flags.force,
        onLine: (line) => (flags.json ? undefined : rt.progress(line)),
        signal: rt.signal,
      });
      if (flags.json) return rt.printJson({ ok: true, image: result.image, imageId: result.id, created: result.created, base: result.base });
      rt.progress(`${result.created ? "created" : "reusing"} ${result.image}`);
      rt.print(result.image);
    });
}
