import type { Command } from "commander";
import { ReportedFailure } from "../errors.js";
import { verifyBinary, type VerifyResult } from "../verify/verify.js";
import { targetGlibcOption, jsonOption } from "./options.js";
import type { CommandRuntime } from "./runtime.js";

export function printVerdicts(results: VerifyResult[], rt: CommandRuntime): void {
  for (const r of results) {
    rt.print(`${r.file}: kmem accounting ${r.kmem.toUpperCase()}${r.ok ? "" : " — FAILED"}`);
    for (const c of r.checks) rt.print(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  }
}

export function registerVerifyCommand(program: Command, rt: CommandRuntime): void {
  program
    .command("verify")
    .description("tell, for each binary, whether kmem accounting is off, with the evidence (exit 0 all off, 1 a check failed, 2 usage or not a Go binary)")
    .argument("<file...>", "runc or kubelet binaries")
    .addOption(targetGlibcOption())
    .option("--runtime", "also start a throwaway container with each runc (root, cgroup v1, strace) and watch for kmem writes")
    .addOption(jsonOption("the results"))
    .action(async (files: string[], flags: { targetGlibc: string; runtime?: boolean; json?: boolean }) => {
      const results: VerifyResult[] = [];
      for (const file of files) results.push(await verifyBinary(file, { targetGlibc: flags.targetGlibc, runtime: Boolean(flags.runtime) }));
      const ok = results.every((r) => r.ok);
      if (flags.json) rt.printJson({ ok, results });
      else printVerdicts(results, rt);
      if (!ok) throw new ReportedFailure(`${results.filter((r) => !r.ok).length} of ${results.length} binaries failed verification`);
    });
}
