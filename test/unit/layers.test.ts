/**
 * Dependency rules for src/: no import cycle, and no import that points up a layer.
 *
 * The import graph is read here from the import and export specifiers
 * (`import type` included: it matters for layering as much as a value import).
 * Written by hand because the libraries do not fit: dependency-cruiser parses
 * TypeScript only through the classic compiler API (typescript < 7, not the
 * native TypeScript 7 this project uses) or @swc/core, whose platform packages
 * the registry reachable here does not all serve, so no complete lock file can
 * be made; madge needs typescript < 6.1 as a peer.
 */
import { existsSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
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
  { name: "CLI shell", units: ["src/launch.ts", "src/cli.ts", "src/commands/"] },
  { name: "orchestrator", units: ["src/orchestrator/"] },
  { name: "steps", units: ["src/steps/"] },
  { name: "pipeline framework", units: ["src/pipeline/"] },
  { name: "node-side host tasks", units: ["src/host/"] },
  { name: "verify and download", units: ["src/verify/", "src/download/"] },
  { name: "source, toolchain, patch", units: ["src/source/", "src/toolchain/", "src/patch/"] },
  { name: "domain", units: ["src/release/", "src/recipes/", "src/binary/", "src/docker/"] },
  { name: "base", units: ["src/errors.ts", "src/env.ts", "src/tool-version.ts", "src/package-root.ts", "src/fs/"] },
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

/** The .ts files under src/ but tests, relative to the root. */
async function sourceFiles(): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, "src"), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
    .sort();
}

interface Graph {
  modules: string[];
  edges: Edge[];
  /** Relative specifiers that name no source file. */
  unresolved: string[];
}

// `import … from "x"`, `export … from "x"`, `import "x"` and `import("x")`, over line breaks.
const SPECIFIER = /(?:^|[;\s])(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|(?:^|[;\s])import\s*\(?\s*["']([^"']+)["']/gm;

async function readGraph(): Promise<Graph> {
  const modules = await sourceFiles();
  const edges: Edge[] = [];
  const unresolved: string[] = [];
  for (const from of modules) {
    const text = (await readFile(path.join(ROOT, from), "utf8")).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith(".")) continue;
      // NodeNext specifiers name the emitted .js; the source is the .ts beside it.
      const to = path.join(path.dirname(from), spec).replace(/\.js$/, ".ts");
      if (existsSync(path.join(ROOT, to))) edges.push({ from, to });
      else unresolved.push(`${from} -> ${spec}`);
    }
  }
  return { modules, edges, unresolved };
}

/** Every cycle found by a depth-first walk, each as `a -> b -> … -> a`. */
function cycles(graph: Graph): string[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of graph.edges) next.set(from, [...(next.get(from) ?? []), to]);
  const found: string[] = [];
  const done = new Set<string>();
  const walk = (node: string, trail: string[]) => {
    const at = trail.indexOf(node);
    if (at >= 0) return void found.push([...trail.slice(at), node].join(" -> "));
    if (done.has(node)) return;
    for (const to of next.get(node) ?? []) walk(to, [...trail, node]);
    done.add(node);
  };
  for (const m of graph.modules) walk(m, []);
  return found;
}

let graph: Graph;

beforeAll(async () => {
  graph = await readGraph();
});

describe("src/ dependency rules", () => {
  it("the scan sees every source file and a real number of imports (so the rules below cannot pass on nothing)", () => {
    expect(graph.modules.length).toBeGreaterThan(50);
    expect(graph.edges.length).toBeGreaterThan(150);
    // `import type` edges are in the graph: context.ts imports nothing but types.
    expect(graph.edges).toContainEqual({ from: "src/pipeline/context.ts", to: "src/docker/engine.ts" });
    // A multi-line import is read too.
    expect(graph.edges).toContainEqual({ from: "src/steps/index.ts", to: "src/steps/compile.ts" });
  });

  it("every relative import resolves to a source file", () => {
    expect(graph.unresolved.join("\n")).toBe("");
  });

  it("has no import cycle", () => {
    expect(cycles(graph).join("\n")).toBe("");
  });

  it("the cycle check does catch a cycle", () => {
    const modules = ["a.ts", "b.ts", "c.ts"];
    expect(cycles({ modules, unresolved: [], edges: [{ from: "a.ts", to: "b.ts" }, { from: "b.ts", to: "c.ts" }, { from: "c.ts", to: "a.ts" }] })).toContain("a.ts -> b.ts -> c.ts -> a.ts");
  });

  it("has no import that points up a layer, and no two folders of a layer that import each other", () => {
    expect(layerViolations(graph.modules, graph.edges).join("\n")).toBe("");
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
