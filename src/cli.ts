/** The CLI itself, bundled into lib/main.cjs; lib/cli.js (src/launch.ts) starts it. */
import { Command, CommanderError } from "commander";
import { InterruptedError, ReportedFailure, UserError, interruptedExitCode, interruption, systemFailure } from "./errors.js";
import { BuildFailedError } from "./steps/compile.js";
import { registerBuildCommand } from "./commands/build-component.js";
import { registerToolchainCommand } from "./commands/toolchain.js";
import { registerVersionsCommand } from "./commands/versions.js";
import { registerVerifyCommand } from "./commands/verify.js";
import { registerInstallCommand } from "./commands/install.js";
import { registerDoctorCommand } from "./commands/doctor.js";
import { registerDownloadCommand } from "./commands/download.js";
import { registerBuildManyCommand } from "./commands/build.js";
import { registerNodeImageCommand } from "./commands/node-image.js";
import { registerCacheCommand } from "./commands/cache.js";
import type { CommandRuntime } from "./commands/runtime.js";
import { TOOL_VERSION } from "./tool-version.js";

// A repository that asks for credentials must fail, not wait on a prompt nobody sees (CI has no stdin).
process.env.GIT_TERMINAL_PROMPT ??= "0";

const controller = interruption;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    // The first signal stops the run and cleans up; a second one gives up waiting.
    if (controller.signal.aborted) process.exit(interruptedExitCode(sig));
    process.stderr.write(`nokmem-build: ${sig}: stopping and cleaning up (again to quit at once)…\n`);
    controller.abort(sig);
  });
}

const json = process.argv.includes("--json");
const rt: CommandRuntime = {
  signal: controller.signal,
  print: (line) => process.stdout.write(`${line}\n`),
  printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  progress: (line) => process.stderr.write(`${line}\n`),
  warn: (line) => process.stderr.write(`nokmem-build: warning: ${line}\n`),
};

const program = new Command("nokmem-build")
  .description("Build runc and kubelet with cgroup kernel-memory (kmem) accounting disabled")
  .version(TOOL_VERSION)
  .exitOverride()
  .showSuggestionAfterError();
registerBuildCommand(program, "runc", "build runc with `seccomp nokmem` (VERSION defaults to the recipes' default, v1.0.0-rc9)", rt);
registerBuildCommand(program, "kubelet", "build kubelet with kmem accounting off: GOFLAGS=-tags=nokmem (v1.14+) or stubbed vendored runc functions (before v1.14)", rt);
registerBuildManyCommand(program, rt);
registerToolchainCommand(program, rt);
registerCacheCommand(program, rt);
registerVerifyCommand(program, rt);
registerInstallCommand(program, rt);
registerDoctorCommand(program, rt);
registerVersionsCommand(program, rt);
registerDownloadCommand(program, rt);
registerNodeImageCommand(program, rt);

function fail(message: string, code: number): never {
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: message, exitCode: code }, null, 2)}\n`);
  else process.stderr.write(`nokmem-build: error: ${message}\n`);
  process.exit(code);
}

// The bundle is CommonJS (for V8's code cache, see launch.ts): no top-level await.
program.parseAsync(process.argv).then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof CommanderError) {
      // Commander printed its message to stderr already; help and --version end here with 0.
      if (err.exitCode === 0) process.exit(0);
      if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: err.message.replace(/^error: /, ""), exitCode: 2 }, null, 2)}\n`);
      process.exit(2);
    }
    if (err instanceof InterruptedError || controller.signal.aborted) {
      const signal = String(controller.signal.reason ?? (err as InterruptedError).signal);
      fail(new InterruptedError(signal).message, interruptedExitCode(signal));
    }
    if (err instanceof BuildFailedError && !json) process.stderr.write(err.logTail.map((l) => `  | ${l}\n`).join(""));
    if (err instanceof ReportedFailure && json) process.exit(err.exitCode);
    if (err instanceof UserError) fail(err.message, err.exitCode);
    const system = systemFailure(err);
    if (system) fail(system, 1);
    process.stderr.write(`nokmem-build: unexpected error (please report it):\n${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
