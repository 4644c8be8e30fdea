/**
 * Dependency rules for src/: no import cycle, and no import that points up a layer.
 *
 * The import graph comes from dependency-cruiser. Its TypeScript support needs
 * the classic compiler API (typescript < 7), which the native TypeScript 7 this
 * project uses no longer ships, so it parses with swc (@swc/core) instead;
 * `tsPreCompilationDeps` keeps `import type` edges, which matter for layering
 * as much as value imports do. (madge was ruled out: its TypeScript detective
 * needs typescript < 6.1 as a peer.)
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cruise, type ICruiseResult } from "dependency-cruiser";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Top (may import anything below) to bottom. Within one layer, folders may
 * import each other in one direction only (today: release/ -> recipes/, for
 * the component type and the resolved recipe). Every module under src/ must
 * be in exactly one layer, so a new folder has to be placed here. host/ sits
 * above verify/ because doctor and install check binaries with verifyBinary.
 */
const LAYERS: ReadonlyArray<{ name: string; units: readonly string[] }> = [
  { name: "CLI shell", units: ["src/cli.ts", "src/commands/"] },
  { name: "orchestrator", units: ["src/orchestrator/"] },
  { name: "steps", units: ["src/steps/"] },
  { name: "pipeline framework", units: ["src/pipeline/"] },
  { name: "node-side host tasks", units: ["src/host/"] },
  { name: "verify and download", units: ["src/verify/", "src/download/"] },
  { name: "source, toolchain, patch", units: ["src/source/", "src/toolchain/", "src/patch/"] },
  { name: "domain", units: ["src/release/", "src/recipes/", "src/binary/", "src/docker/"] },
  { name: "base", units: ["src/errors.ts", "src/env.ts", "src/tool-version.ts", "src/fs/"] },
];

interface Edge {
  from: string;
  to: string;
}

/** The unit (a folder as `src/x/`, or a file directly in src/) and the layer index of a module path. */
function placeOf(module: string): { unit: string; layer: number } | undefined {
  for (const [layer, { units }] of LAYERS.entries()) {
    const unit = units.find((u) => (u.endsWith("/") ? module.startsWith(u) : module === u));
    if (unit) return { unit, layer };
  }
  return undefined;
}

/** Every way `edges` break the layering, one line each; empty when they keep it. */
function layerViolations(modules: readonly string[], edges: readonly Edge[]): string[] {
  const problems = new Set<string>();
  for (const m of [...modules, ...edges.flatMap((e) => [e.from, e.to])]) if (!placeOf(m)) problems.add(`${m} is in no layer: add its folder to LAYERS`);
  const unitEdges = new Set<string>();
  for (const { from, to } of edges) {
    const a = placeOf(from);
    const b = placeOf(to);
    if (!a || !b) continue;
    if (b.layer < a.layer) problems.add(`${from} (${LAYERS[a.layer]!.name}) imports ${to} (${LAYERS[b.layer]!.name}), a layer above it`);
    if (a.layer === b.layer && a.unit !== b.unit) unitEdges.add(`${a.unit} -> ${b.unit}`);
  }
  for (const edge of unitEdges) {
    const [x, y] = edge.split(" -> ");
    if (x! < y! && unitEdges.has(`${y} -> ${x}`)) problems.add(`${x} and ${y} import each other: one must sit below the other`);
  }
  return [...problems];
}

/** The .ts files under src/ but tests, relative to the root, listed independently of dependency-cruiser. */
async function sourceFiles(): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, "src"), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
    .sort();
}

let graph: ICruiseResult;
let edges: Edge[];

beforeAll(async () => {
  const { output } = await cruise(
    ["src"],
    { baseDir: ROOT, parser: "swc", tsPreCompilationDeps: true, includeOnly: "^src/", exclude: { path: "\\.test\\.ts$" } },
    // NodeNext specifiers name the emitted .js; the source is the .ts beside it.
    { extensions: [".ts", ".js"], extensionAlias: { ".js": [".ts", ".js"] } },
  );
  if (typeof output === "string") throw new Error(`dependency-cruiser returned text: ${output.slice(0, 200)}`);
  graph = output;
  edges = graph.modules.flatMap((m) => m.dependencies.map((d) => ({ from: m.source, to: d.resolved })));
});

describe("src/ dependency rules", () => {
  it("the scan sees every source file and a real number of imports (so the rules below cannot pass on nothing)", async () => {
    expect(graph.modules.map((m) => m.source).sort()).toEqual(await sourceFiles());
    expect(graph.modules.length).toBeGreaterThan(50);
    expect(edges.length).toBeGreaterThan(150);
    // `import type` edges are in the graph: context.ts imports nothing but types.
    expect(edges).toContainEqual({ from: "src/pipeline/context.ts", to: "src/docker/engine.ts" });
  });

  it("every relative import resolves to a source file", () => {
    const unresolved = graph.modules.flatMap((m) => m.dependencies.filter((d) => d.couldNotResolve).map((d) => `${m.source} -> ${d.module}`));
    expect(unresolved.join("\n")).toBe("");
  });

  it("has no import cycle", () => {
    const cycles = graph.modules.flatMap((m) =>
      m.dependencies.filter((d) => d.circular).map((d) => [m.source, ...(d.cycle ?? []).map((c) => c.name)].join(" -> ")),
    );
    expect(cycles.join("\n")).toBe("");
  });

  it("has no import that points up a layer, and no two folders of a layer that import each other", () => {
    expect(layerViolations(graph.modules.map((m) => m.source), edges).join("\n")).toBe("");
  });

  it("the layer check does catch an upward import, a two-way pair within a layer, and a folder in no layer", () => {
    expect(
      layerViolations(
        ["src/plugins/x.ts", "src/errors.ts"],
        [
          { from: "src/recipes/load.ts", to: "src/steps/compile.ts" },
          { from: "src/source/fetch.ts", to: "src/patch/go-scan.ts" },
          { from: "src/patch/go-scan.ts", to: "src/source/pack.ts" },
          { from: "src/steps/compile.ts", to: "src/recipes/load.ts" },
        ],
      ),
    ).toEqual([
      "src/plugins/x.ts is in no layer: add its folder to LAYERS",
      "src/recipes/load.ts (domain) imports src/steps/compile.ts (steps), a layer above it",
      "src/patch/ and src/source/ import each other: one must sit below the other",
    ]);
  });
});
