import type { Command } from "commander";
import { connectDocker } from "../docker/engine.js";
import { runLabels } from "../docker/labels.js";
import { SUITES, type Suite } from "../recipes/suites.js";
import { probeToolchain } from "../toolchain/builder.js";
import { ensureSuiteGoImage } from "../toolchain/go-image.js";
import { debianMirrorOption, jsonOption, registryOption, suiteOption } from "./options.js";
import type { CommandRuntime } from "./runtime.js";

export function registerToolchainCommand(program: Command, rt: CommandRuntime): void {
  const toolchain = program.command("toolchain").description("manage the Go toolchain images builds run on");
  toolchain
    .command("bootstrap")
    .description("make (or reuse) a Debian suite's Go image — base from the engine, a registry, or debootstrap — and print its reference")
    .addOption(suiteOption().default("bookworm"))
    .addOption(registryOption())
    .addOption(debianMirrorOption())
    .option("--force", "rebuild the Go image even when it exists")
    .addOption(jsonOption())
    .action(async (flags: { suite: Suite; registry?: string; debianMirror?: string; force?: boolean; json?: boolean }) => {
      const docker = connectDocker();
      await docker.ping();
      const labels = runLabels(`bootstrap-${process.pid}`);
      const result = await ensureSuiteGoImage(docker, flags.suite, {
        registry: flags.registry,
        debianMirror: flags.debianMirror,
        force: flags.force,
        onLine: (line) => (flags.json ? undefined : rt.progress(line)),
        signal: rt.signal,
      });
      const { goVersion } = await probeToolchain(docker, result.image, labels, rt.signal);
      if (flags.json) return rt.printJson({ image: result.image, imageId: result.id, goVersion, suite: result.suite, created: result.created, base: result.base });
      rt.progress(`${result.created ? "created" : "reusing"} ${result.image} (go${goVersion}; Debian ${result.suite} packages ship Go ${SUITES[result.suite]}; base from ${result.base.origin})`);
      rt.print(result.image);
    });
}
