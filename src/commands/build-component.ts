import type { Command } from "commander";
import { buildComponent } from "../orchestrator/build-one.js";
import { connectDocker } from "../docker/engine.js";
import { renderMode } from "../pipeline/render.js";
import type { Component } from "../recipes/schema.js";
import { buildCommandOptions, sharedBuildSettings, type BuildFlags } from "./options.js";
import type { CommandRuntime } from "./runtime.js";

/** `nokmem-build runc [VERSION]` (and, with the kubelet recipes, `kubelet VERSION`). */
export function registerBuildCommand(program: Command, component: Component, description: string, rt: CommandRuntime): void {
  const cmd = program.command(`${component} [version]`).description(description);
  buildCommandOptions().forEach((o) => cmd.addOption(o));
  cmd.action(async (version: string | undefined, flags: BuildFlags) => {
    const result = await buildComponent(
      {
        component,
        version,
        source: flags.source,
        goImage: flags.goImage,
        ...sharedBuildSettings(flags),
      },
      { docker: connectDocker(), signal: rt.signal, mode: renderMode(Boolean(flags.json)) },
    );
    if (flags.json) return rt.printJson({ ok: true, ...result });
    if (result.status === "cached") return rt.print(`${result.asset}: cached (artifacts in ${result.outDir} still match; --force rebuilds)`);
    for (const w of result.warnings) rt.warn(w);
    rt.print(`${result.asset}  sha256 ${result.sha256}`);
    rt.print(`artifacts in ${result.outDir}: ${result.files.join(", ")}`);
  });
}
