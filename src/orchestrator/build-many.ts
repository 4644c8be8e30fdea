import { UsageError, UserError, errorMessage, systemFailure, throwIfInterrupted } from "../errors.js";
import type { BuildOptions } from "../pipeline/context.js";
import { taskList } from "../pipeline/render.js";
import { Turns } from "../pipeline/turns.js";
import { COMPONENTS } from "../recipes/load.js";
import { lookupRecipe, type Target } from "../recipes/lookup.js";
import type { Component } from "../recipes/schema.js";
import { buildComponent, type BuildDeps } from "./build-one.js";

export type TargetOutcome =
  | { target: string; status: "built" | "cached"; asset: string; sha256: string }
  | { target: string; status: "refused" | "failed"; reason: string };

export const targetName = (t: Target) => `${t.component}@${t.version}`;

/** `runc@v1.0.0-rc9` -> a target; the shape is checked here, the version by the recipes. */
export function parseTarget(text: string): Target {
  const [component, version, ...rest] = text.split("@");
  if (!COMPONENTS.includes(component as Component) || !version || rest.length) {
    throw new UsageError(`target '${text}': expected COMPONENT@VERSION with COMPONENT one of ${COMPONENTS.join(", ")}, such as runc@v1.0.0-rc9`);
  }
  return { component: component as Component, version };
}

/** Per-component settings (--source runc=URL, --go-image kubelet=IMAGE), or one value for all. */
export type PerComponent = Partial<Record<Component, string>> & { all?: string };

export interface ManyOptions extends Omit<BuildOptions, "component" | "version" | "source" | "goImage"> {
  source: PerComponent;
  goImage: PerComponent;
  jobs: number;
}

/**
 * Builds several targets, at most `jobs` at a time, into one output directory.
 * A target that is refused or fails is reported as such; the others go on and
 * their artifacts stay.
 */
export async function buildMany(targets: Target[], opts: ManyOptions, deps: BuildDeps): Promise<TargetOutcome[]> {
  const outcomes: TargetOutcome[] = [];
  // The task list goes on past a failing task; what is not a target's own failure (a bug) is raised after it.
  let unexpected: { err: unknown } | undefined;
  const turns = new Turns();
  const tasks = taskList(
    targets.map((t) => ({
      title: targetName(t),
      task: async (_, task) => {
        const outcome = await buildOne(t, opts, { ...deps, turns }).catch((err: unknown) => {
          unexpected ??= { err };
          throw err;
        });
        outcomes.push(outcome);
        task.title = `${targetName(t)}: ${outcome.status}`;
        if ("reason" in outcome) throw new Error(outcome.reason);
      },
    })),
    deps.mode,
    { concurrent: opts.jobs, exitOnError: false },
  );
  await tasks.run().catch(() => undefined);
  // An interrupted run is not a run that built nothing: it ends as interrupted (exit 130, 143).
  throwIfInterrupted(deps.signal);
  if (unexpected) throw unexpected.err;
  const order = targets.map(targetName);
  return outcomes.sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target));
}

async function buildOne(t: Target, opts: ManyOptions, deps: BuildDeps): Promise<TargetOutcome> {
  const target = targetName(t);
  try {
    // Refusals come from the recipes before any work, as for a single build.
    await lookupRecipe(t.component, t.version, { allowUnpinned: opts.allowUnpinned });
  } catch (err) {
    return { target, status: "refused", reason: errorMessage(err) };
  }
  try {
    const r = await buildComponent(
      { ...opts, component: t.component, version: t.version, source: opts.source[t.component] ?? opts.source.all, goImage: opts.goImage[t.component] ?? opts.goImage.all },
      { ...deps, mode: "silent" },
    );
    return { target, status: r.status, asset: r.asset, sha256: r.sha256 };
  } catch (err) {
    // A file-system or Docker failure (ENOSPC, the engine gone) is this target's failure too, in one line.
    const reason = err instanceof UserError ? errorMessage(err) : systemFailure(err);
    if (deps.signal.aborted || reason === undefined) throw err;
    return { target, status: "failed", reason };
  }
}
