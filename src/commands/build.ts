import path from "node:path";
import { Option, type Command } from "commander";
import { ReportedFailure, UsageError } from "../errors.js";
import { ENV } from "../env.js";
import { buildMany, parseTarget, targetName, type PerComponent } from "../orchestrator/build-many.js";
import { connectDocker } from "../docker/engine.js";
import { checkWritableDir } from "../fs/writable.js";
import { renderMode } from "../pipeline/render.js";
import { lookupRecipe, publishedTargets, type Target } from "../recipes/lookup.js";
import { COMPONENTS } from "../recipes/load.js";
import { RefusedVersionError } from "../recipes/resolve.js";
import { buildCommandOptions, parseImageRef, parseSource, sharedBuildSettings, type BuildFlags } from "./options.js";
import type { CommandRuntime } from "./runtime.js";

/** `--source URL` for every component, or `--source runc=URL --source kubelet=URL`; each value checked as the single-build flag checks it. */
function perComponent(flag: string, check: (value: string) => string) {
  return (value: string, previous: PerComponent = {}): PerComponent => {
    const m = value.match(/^(\w+)=(.+)$/);
    if (m && COMPONENTS.includes(m[1] as never)) return { ...previous, [m[1]!]: check(m[2]!) };
    if (previous.all) throw new UsageError(`${flag} given twice for every component: use ${flag} COMPONENT=VALUE`);
    return { ...previous, all: check(value) };
  };
}

function parseJobs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new UsageError(`--jobs ${value}: expected a whole number from 1 to 16`);
  return n;
}

/**
 * A mistyped target stops the whole run before anything is built, as a bad
 * shape does; a version the recipes refuse on purpose is that target's
 * outcome ("refused"), and the others still build.
 */
async function checkVersions(targets: Target[], allowUnpinned: boolean): Promise<void> {
  for (const t of targets) {
    await lookupRecipe(t.component, t.version, { allowUnpinned }).catch((err: unknown) => {
      if (err instanceof RefusedVersionError) return; // reported with the others as "refused"
      throw err instanceof UsageError ? new UsageError(`target '${targetName(t)}': ${err.message}`) : err;
    });
  }
}

export function registerBuildManyCommand(program: Command, rt: CommandRuntime): void {
  const cmd = program
    .command("build")
    .description("build several targets (runc@v1.0.0-rc9 kubelet@v1.18.6 …) or --all the recipes publish, --jobs at a time")
    .argument("[targets...]", "COMPONENT@VERSION");
  for (const o of buildCommandOptions()) {
    // Per-component forms of --source and --go-image; the rest as for a single build.
    if (o.long === "--source") cmd.addOption(new Option("--source <[component=]url>", o.description).argParser(perComponent("--source", parseSource)));
    else if (o.long === "--go-image") cmd.addOption(new Option("--go-image <[component=]image>", o.description).argParser(perComponent("--go-image", (v) => parseImageRef(v))));
    else cmd.addOption(o);
  }
  cmd
    .option("--all", "every version the recipes publish")
    .addOption(new Option("--jobs <n>", "builds at the same time (targets on one toolchain's Go cache compile in turn, the next on what the one before compiled; their other steps and other toolchains' targets go side by side)").default(1).argParser(parseJobs))
    .action(async (names: string[], flags: Omit<BuildFlags, "source" | "goImage"> & { source?: PerComponent; goImage?: PerComponent; all?: boolean; jobs: number }) => {
      if (Boolean(flags.all) === names.length > 0) throw new UsageError("build: name targets (COMPONENT@VERSION …) or --all, not both and not neither");
      const targets = flags.all ? await publishedTargets() : names.map(parseTarget);
      await checkVersions(targets, Boolean(flags.allowUnpinned));
      const goImageEnv = process.env[ENV.goImage];
      const goImage = flags.goImage ?? (goImageEnv ? { all: parseImageRef(goImageEnv, ENV.goImage) } : {});
      // Every target writes to the same --out and --cache-dir: checked once, before any target starts.
      await checkWritableDir(flags.out, "--out");
      await checkWritableDir(flags.cacheDir, "--cache-dir");
      const outcomes = await buildMany(
        targets,
        {
          source: flags.source ?? {},
          goImage,
          ...sharedBuildSettings(flags),
          jobs: flags.jobs,
        },
        { docker: connectDocker(), signal: rt.signal, mode: renderMode(Boolean(flags.json)) },
      );
      const ok = outcomes.length === targets.length && outcomes.every((o) => o.status === "built" || o.status === "cached");
      // A target that ended without an outcome (an error buildMany does not report) is named too.
      const bad = targets.map(targetName).filter((name) => !outcomes.some((o) => o.target === name && (o.status === "built" || o.status === "cached")));
      const failure = ok ? undefined : `${bad.length} of ${targets.length} targets did not build: ${bad.join(", ")}`;
      if (flags.json) rt.printJson({ ok, outDir: path.resolve(flags.out), targets: outcomes, ...(failure && { error: failure, exitCode: 1 }) });
      else for (const o of outcomes) rt.print(`${o.target}: ${o.status}${"reason" in o ? ` — ${o.reason}` : `  ${o.asset}  sha256 ${o.sha256}`}`);
      if (failure) throw new ReportedFailure(failure);
    });
}
