import { Listr } from "listr2";
import { UsageError, UserError, errorMessage } from "../errors.js";
import type { DockerEngine } from "../docker/engine.js";
import type { BuildOptions } from "../pipeline/context.js";
import type { RenderMode } from "../pipeline/run.js";
import { COMPONENTS, loadRecipeBook, publishedTags, recipeFile } from "../recipes/load.js";
import { resolveRecipe } from "../recipes/resolve.js";
import type { Component } from "../recipes/schema.js";
import { buildComponent } from "./build-one.js";

export interface Target {
  component: Component;
  version: string;
}

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

/** Every version the recipes publish, for the release matrix and `build --all`. */
export async function publishedTargets(): Promise<Target[]> {
  const targets: Target[] = [];
  for (const component of COMPONENTS) {
    for (const version of publishedTags(await loadRecipeBook(recipeFile(component)))) targets.push({ component, version });
  }
  return targets;
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
export async function buildMany(targets: Target[], opts: ManyOptions, deps: { docker: DockerEngine; signal: AbortSignal; mode: RenderMode }) {
  const outcomes: TargetOutcome[] = [];
  const tasks = new Listr(
    targets.map((t) => ({
      title: targetName(t),
      task: async (_: unknown, task: { title: string }) => {
        const outcome = await buildOne(t, opts, deps);
        outcomes.push(outcome);
        task.title = `${targetName(t)}: ${outcome.status}`;
        if ("reason" in outcome) throw new Error(outcome.reason);
      },
    })),
    {
      concurrent: opts.jobs,
      exitOnError: false,
      registerSignalListeners: false,
      renderer: deps.mode === "tty" ? "default" : deps.mode === "plain" ? "simple" : "silent",
      collectErrors: false,
    } as never,
  );
  await tasks.run().catch(() => undefined);
  const order = targets.map(targetName);
  return outcomes.sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target));
}

async function buildOne(t: Target, opts: ManyOptions, deps: { docker: DockerEngine; signal: AbortSignal }): Promise<TargetOutcome> {
  const target = targetName(t);
  try {
    // Refusals come from the recipes before any work, as for a single build.
    resolveRecipe(await loadRecipeBook(recipeFile(t.component)), t.version, { allowUnpinned: opts.allowUnpinned });
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
    if (deps.signal.aborted || !(err instanceof UserError)) throw err;
    return { target, status: "failed", reason: errorMessage(err) };
  }
}
