import type { Command } from "commander";
import { ReportedFailure, UsageError } from "../errors.js";
import { verifyBinary, type VerifyResult } from "../verify/verify.js";
import { targetGlibcOption, jsonOption } from "./options.js";
import type { CommandRuntime } from "./runtime.js";

export function printVerdicts(results: VerifyResult[], rt: CommandRuntime): void {
  for (const r of results) {
    rt.print(`${r.file}: kmem accounting ${r.kmem.toUpperCase()}${r.ok ? "" : " — FAILED"}`);
    for (const c of r.checks) rt.print(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  }
}

/** Why verify failed, in one line: files it could not read as Go binaries (exit 2) before binaries that failed a check (exit 1). */
function failure(files: string[], results: VerifyResult[], unverified: string[]): { message: string; exitCode: 1 | 2 } | undefined {
  const failed = results.filter((r) => !r.ok).length;
  const checks = failed ? `${failed} of ${files.length} binaries failed verification` : "";
  if (!unverified.length) return failed ? { message: checks, exitCode: 1 } : undefined;
  const unread = files.length === 1 ? unverified[0]! : `${unverified.length} of ${files.length} files could not be verified: ${unverified.join("; ")}`;
  return { message: [unread, checks].filter(Boolean).join("; "), exitCode: 2 };
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
      // A file that is not a Go binary (or not a file) is reported, and the others are still verified.
      const unverified: string[] = [];
      for (const file of files) {
        try {
          results.push(await verifyBinary(file, { targetGlibc: flags.targetGlibc, runtime: Boolean(flags.runtime) }));
        } catch (err) {
          if (!(err instanceof UsageError)) throw err;
          unverified.push(err.message);
        }
      }
      const failed = failure(files, results, unverified);
      if (flags.json) rt.printJson({ ok: !failed, results, ...(failed && { unverified, error: failed.message, exitCode: failed.exitCode }) });
      else printVerdicts(results, rt);
      if (failed) throw new ReportedFailure(failed.message, failed.exitCode);
    });
}
