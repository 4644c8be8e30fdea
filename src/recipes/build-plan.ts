import path from "node:path";
import type { Recipe } from "./schema.js";
import { fillTemplate, type TemplateValues } from "./template.js";

/** Single-quotes a word for /bin/sh. */
export const shq = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export const OUT_DIR = "/out";

export type Linkage = "static" | "dynamic";

export interface BuildPlan {
  /** Where the source goes in the container (GOPATH layout requires its import path). */
  workDir: string;
  env: Record<string, string>;
  /** GOCACHE in the container: where the Go build cache volume is mounted. */
  goCache: string;
  /** The make command line with the recipe's environment, as an operator would type it. */
  command: string;
  script: string;
}

/** Turns a recipe into the commands that run inside the build container. */
export function planBuild(recipe: Recipe, importPath: string, asset: string, stamp: TemplateValues, link: Linkage = "static"): BuildPlan {
  const workDir = `/go/src/${importPath}`;
  const goCache = recipe.goCache ? path.posix.join(workDir, recipe.goCache) : "/tmp/go-build-cache";
  const env: Record<string, string> = {
    GOPATH: "/go",
    GO111MODULE: recipe.layout === "gopath" ? "off" : "on",
    // A newer Go must not try to download another toolchain (networking is off anyway).
    GOTOOLCHAIN: "local",
    GOCACHE: goCache,
    HOME: "/root",
    // Belt and braces with the root-owned tar: git >= 2.35.2 refuses repositories owned by another user.
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "safe.directory",
    GIT_CONFIG_VALUE_0: "*",
  };
  const recipeEnv = { ...recipe.env, ...(link === "static" ? recipe.staticEnv : {}) };
  const filled = Object.entries(recipeEnv).map(([k, v]): [string, string] => [k, fillTemplate(v, stamp)]);
  Object.assign(env, Object.fromEntries(filled));
  const assign = ([k, v]: [string, string]) => `${k}=${shq(v)}`;
  const vars = Object.entries(recipe.make.vars).map(assign);
  const command = [...filled.map(assign), "make", recipe.make.target, ...vars].join(" ");
  const binary = `${OUT_DIR}/${asset}`;
  const script = [
    "set -eu",
    "go version",
    `echo "+ ${command.replace(/"/g, '\\"')}"`,
    command,
    `mkdir -p ${OUT_DIR}`,
    `cp ${shq(recipe.artifact)} ${binary}`,
    `${binary} ${recipe.version.args.map(shq).join(" ")} > ${OUT_DIR}/version.txt 2>&1`,
  ].join("\n");
  return { workDir, env, goCache, command, script };
}
