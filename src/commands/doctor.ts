import path from "node:path";
import type { Command } from "commander";
import { ReportedFailure } from "../errors.js";
import { diagnose } from "../host/doctor.js";
import { jsonOption } from "./options.js";
import type { CommandRuntime } from "./runtime.js";

const MARK = { ok: "ok  ", risk: "RISK", info: "info" } as const;

export function registerDoctorCommand(program: Command, rt: CommandRuntime): void {
  program
    .command("doctor")
    .description("diagnose a node: kernel, memory cgroup leak, kmem under kubepods, the runc and kubelet it runs (exit 0 healthy, 1 at risk or leaking)")
    .option("--root <dir>", "the node's root (for a mounted node image)", "/")
    .addOption(jsonOption("the report"))
    .action(async (flags: { root: string; json?: boolean }) => {
      const report = await diagnose(path.resolve(flags.root));
      if (flags.json) rt.printJson(report);
      else {
        rt.print(`node ${report.root}: kernel ${report.kernel}, cgroup ${report.cgroup}`);
        for (const f of report.findings) {
          rt.print(`${MARK[f.status]} ${f.topic}: ${f.summary}`);
          if (f.next && f.status === "risk") rt.print(`     next: ${f.next}`);
        }
      }
      if (!report.healthy) throw new ReportedFailure("the node is at risk or leaking: follow the next steps above");
    });
}
