import { Option, type Command } from "commander";
import { ENV } from "../env.js";
import { connectDocker } from "../docker/engine.js";
import { runLabels } from "../docker/labels.js";
import { bootstrapGoImage } from "../toolchain/bootstrap.js";
import { jsonOption } from "./options.js";
import type { CommandRuntime } from "./runtime.js";

export function registerToolchainCommand(program: Command, rt: CommandRuntime): void {
  const toolchain = program.command("toolchain").description("manage the Go toolchain images builds run on");
  toolchain
    .command("bootstrap")
    .description("make a Go base image from Debian packages (no container registry needed) and print its reference")
    .option("--suite <suite>", "Debian suite: bookworm (Go 1.19) or bullseye (Go 1.15)", "bookworm")
    .addOption(new Option("--mirror <url>", "Debian mirror (default: the one this machine's apt uses)").env(ENV.debianMirror))
    .option("--force", "rebuild the image even when it exists")
    .addOption(jsonOption())
    .action(async (flags: { suite: string; mirror?: string; force?: boolean; json?: boolean }) => {
      const docker = connectDocker();
      await docker.ping();
      const result = await bootstrapGoImage(docker, {
        suite: flags.suite,
        mirror: flags.mirror,
        force: flags.force,
        labels: runLabels(`bootstrap-${process.pid}`),
        onLine: (line) => (flags.json ? undefined : rt.progress(line)),
        signal: rt.signal,
      });
      if (flags.json) return rt.printJson(result);
      rt.progress(`${result.created ? "created" : "reusing"} ${result.image} (go${result.goVersion})`);
      rt.print(result.image);
    });
}
