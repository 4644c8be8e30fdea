import path from "node:path";
import { Option, type Command } from "commander";
import { UsageError } from "../errors.js";
import { installBinary, rollbackBinary, type InstallResult } from "../host/install.js";
import type { Component } from "../recipes/schema.js";
import { targetGlibcOption, jsonOption } from "./options.js";
import type { CommandRuntime } from "./runtime.js";

interface InstallFlags {
  component: Component;
  root: string;
  path?: string;
  dryRun?: boolean;
  restart?: boolean;
  rollback?: boolean;
  targetGlibc: string;
  json?: boolean;
}

function report(r: InstallResult, rollback: boolean, rt: CommandRuntime): void {
  const would = r.dryRun ? "would " : "";
  for (const w of r.warnings) rt.warn(w);
  if (rollback) rt.print(`${would}restore ${r.target} from ${r.backup}`);
  else rt.print(`${would}back up ${r.target} to ${r.backup}, then replace it`);
  if (r.restarted.length) rt.print(`restarted: ${r.restarted.join(", ")}`);
  if (r.todo.length) rt.print(`${r.dryRun ? "then" : "now"} run:\n${r.todo.map((c) => `  ${c}`).join("\n")}`);
  if (r.checks.length) rt.print(`then check:\n${r.checks.map((c) => `  ${c}`).join("\n")}`);
}

export function registerInstallCommand(program: Command, rt: CommandRuntime): void {
  program
    .command("install")
    .description("install a verified nokmem binary over the one the node uses (backup, atomic swap, restart), or --rollback")
    .argument("[file]", "the nokmem runc or kubelet to install")
    .addOption(new Option("--component <name>", "which binary it replaces").choices(["runc", "kubelet"]).makeOptionMandatory())
    .option("--root <dir>", "the node's root file system", "/")
    .option("--path <path>", "the binary to replace, as a path on the node (default: found on the usual paths)")
    .option("--dry-run", "say what would be done, change nothing")
    .option("--restart", "restart the services that use it (default when --root is /)")
    .option("--no-restart", "do not restart services")
    .option("--rollback", "restore the newest backup instead of installing")
    .addOption(targetGlibcOption())
    .addOption(jsonOption())
    .action(async (file: string | undefined, flags: InstallFlags) => {
      if (!flags.rollback && !file) throw new UsageError("install: FILE is required (or --rollback)");
      if (flags.rollback && file) throw new UsageError("install --rollback takes no FILE: it restores the newest backup");
      const opts = {
        component: flags.component,
        root: path.resolve(flags.root),
        path: flags.path,
        dryRun: Boolean(flags.dryRun),
        restart: flags.restart,
        targetGlibc: flags.targetGlibc,
      };
      const result = flags.rollback ? await rollbackBinary(opts) : await installBinary(path.resolve(file!), opts);
      if (flags.json) rt.printJson({ ok: true, ...result });
      else report(result, Boolean(flags.rollback), rt);
    });
}
