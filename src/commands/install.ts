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
  if (r.configuredBy) rt.print(`the node's configuration names this runc: ${r.configuredBy}`);
  if (rollback && r.mode === "shadow") rt.print(`${would}remove ${r.target}, uncovering ${r.shadows}`);
  else if (rollback) rt.print(`${would}restore ${r.target} from ${r.backup}`);
  else if (r.mode === "shadow") {
    rt.print(`${would}install ${r.target}, which comes first on PATH: ${r.shadows} stays as it is${r.package ? ` (${r.package.manager} package ${r.package.name}: its updates no longer undo this)` : ""}`);
  } else rt.print(`${would}back up ${r.target} to ${r.backup}, then replace it`);
  if (r.selinuxLabel) rt.print(`SELinux label kept: ${r.selinuxLabel}`);
  if (r.restartedVia) rt.print(r.restarted.length ? `restarted through ${r.restartedVia}: ${r.restarted.join(", ")}` : `no service using it is active (asked through ${r.restartedVia})`);
  if (r.todo.length) rt.print(`${r.dryRun ? "then" : "now"} run:\n${r.todo.map((c) => `  ${c}`).join("\n")}`);
  if (r.checks.length) rt.print(`then check:\n${r.checks.map((c) => `  ${c}`).join("\n")}`);
}

export function registerInstallCommand(program: Command, rt: CommandRuntime): void {
  program
    .command("install")
    .description("install a verified nokmem binary where the node runs it (runc: /usr/local/sbin/runc shadowing the package's, unless the engine's configuration names one; kubelet: over the one found), or --rollback")
    .argument("[file]", "the nokmem runc or kubelet to install")
    .addOption(new Option("--component <name>", "which binary it replaces").choices(["runc", "kubelet"]).makeOptionMandatory())
    .option("--root <dir>", "the node's root file system", "/")
    .option("--path <path>", "the binary to replace, as a path on the node (default: found on the usual paths)")
    .option("--dry-run", "say what would be done, change nothing")
    .option("--restart", "restart the services that use it through the node's systemd (default when --root is /; under another root: nsenter into PID 1, else chroot ROOT systemctl)")
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
