import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRecipeBook, recipeFile } from "./load.js";
import { resolveRecipe } from "./resolve.js";
import type { RecipeBook } from "./schema.js";

let runc: RecipeBook;
beforeAll(async () => {
  runc = await loadRecipeBook(recipeFile("runc"));
});

// BRIEF §2: every tag from rc6 to rc93, its commit and layout.
const RUNC_TAGS: Array<[string, string, string]> = [
  ["v1.0.0-rc6", "ccb5efd37fb7c86364786e9137e22948751de7ed", "runc-gopath"],
  ["v1.0.0-rc7", "69ae5da6afdcaaf38285a10b36f362e41cb298d6", "runc-gopath"],
  ["v1.0.0-rc8", "425e105d5a03fabd737a126ad93d62a9eeede87f", "runc-gopath"],
  ["v1.0.0-rc9", "d736ef14f0288d6993a1845745d6756cfc9ddd5a", "runc-gopath"],
  ["v1.0.0-rc10", "dc9208a3303feef5b3839f4323d9beb36df0a9dd", "runc-gopath"],
  ["v1.0.0-rc90", "dc9208a3303feef5b3839f4323d9beb36df0a9dd", "runc-gopath"],
  ["v1.0.0-rc91", "24a3cf88a7ae5f4995f6750654c0e2ca61ef4bb2", "runc-modules"],
  ["v1.0.0-rc92", "ff819c7e9184c13b7c2607fe6c30ae19403a7aff", "runc-modules"],
  ["v1.0.0-rc93", "12644e614e25b05da6fd08a38ffa0cfe1903fdec", "runc-modules"],
];

describe("runc recipes", () => {
  it.each(RUNC_TAGS)("resolves %s to its pinned commit %s (%s)", (tag, commit, id) => {
    const r = resolveRecipe(runc, tag);
    expect(r).toMatchObject({ tag, pinnedCommit: commit, component: "runc" });
    expect(r.recipe.id).toBe(id);
    expect(r.recipe.make).toEqual({ target: "static", vars: { BUILDTAGS: "seccomp nokmem" } });
    expect(r.recipe.layout).toBe(id === "runc-gopath" ? "gopath" : "modules");
  });

  it("defaults to v1.0.0-rc9", () => {
    expect(resolveRecipe(runc, undefined).tag).toBe("v1.0.0-rc9");
  });

  it.each(["v1.0.0-rc5", "v1.0.0-rc1", "v0.1.1", "v1.0.0-rc4"])("refuses %s: no nokmem tag before rc6, suggests rc9", (tag) => {
    expect(() => resolveRecipe(runc, tag)).toThrow(/no nokmem build tag.*build v1\.0\.0-rc9 instead/);
  });

  it.each(["v1.0.0-rc94", "v1.0.0-rc95", "v1.0.0", "v1.1.12", "v2.0.0"])("refuses %s: upstream removed kmem accounting", (tag) => {
    expect(() => resolveRecipe(runc, tag)).toThrow(/upstream removed kernel-memory accounting in v1\.0\.0-rc94.*no rebuild/);
  });

  it("refuses an in-range tag it does not know unless unpinned builds are allowed", () => {
    expect(() => resolveRecipe(runc, "v1.0.0-rc50")).toThrow(/not a known release .*--allow-unpinned/);
    expect(resolveRecipe(runc, "v1.0.0-rc50", { allowUnpinned: true })).toMatchObject({ pinnedCommit: undefined, tag: "v1.0.0-rc50" });
  });

  it("exits 2 for refused and malformed versions", () => {
    for (const v of ["v1.0.0-rc5", "v1.0.0-rc94", "nope"]) {
      expect(() => resolveRecipe(runc, v)).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
  });
});

describe("recipe validation", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "nokmem-recipes-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const good = `component: runc
upstream: https://example.invalid/runc.git
importPath: github.com/opencontainers/runc
recipes:
  - id: r
    range: ">=1.0.0-rc6 <=1.0.0-rc93"
    layout: gopath
    method: build-tag
    go: "1.13"
    suite: bookworm
    make: { target: static }
    artifact: runc
    version: { args: ["--version"], expect: ["runc version {version}"] }
pins:
  v1.0.0-rc9: d736ef14f0288d6993a1845745d6756cfc9ddd5a
`;

  async function load(text: string) {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, text);
    return { file, result: loadRecipeBook(file) };
  }

  it("loads a well-formed file", async () => {
    const { result } = await load(good);
    await expect(result).resolves.toMatchObject({ component: "runc" });
  });

  it.each([
    ["a bad commit", good.replace("d736ef14f0288d6993a1845745d6756cfc9ddd5a", "d736ef1"), "field pins.v1.0.0-rc9: must be a full 40-hex commit id"],
    ["a missing field", good.replace("    artifact: runc\n", ""), "field recipes.0.artifact"],
    ["a bad range", good.replace(">=1.0.0-rc6 <=1.0.0-rc93", "from rc6 to rc93"), "field recipes.0.range: not a valid version range"],
    ["an unknown layout", good.replace("layout: gopath", "layout: bazel"), "field recipes.0.layout"],
    ["a source-patch recipe without a patch", good.replace("method: build-tag", "method: source-patch"), "field recipes.0.patch"],
    ["an unknown field", good.replace("    artifact: runc\n", "    artifact: runc\n    colour: blue\n"), "field recipes.0"],
    ["an escaping artifact path", good.replace("artifact: runc", "artifact: ../../etc/passwd"), "field recipes.0.artifact"],
    ["a pin outside every recipe", good.replace("v1.0.0-rc9:", "v1.0.0-rc99:"), "field pins/published v1.0.0-rc99: matches 0 recipes"],
    ["a suite outside the Go window", good.replace('    go: "1.13"\n', '    go: "1.13"\n    maxGo: { version: "1.17", reason: r }\n'), "field recipes.0.suite: bookworm ships Go 1.19, outside r's Go window Go 1.17.x or older"],
    ["a missing suite where one fits", good.replace("    suite: bookworm\n", ""), "field recipes.0.suite: missing, and bookworm, bullseye fits"],
    ["an unknown suite", good.replace("suite: bookworm", "suite: buster"), "field recipes.0.suite"],
    ["broken YAML", "component: [runc\n", "recipe file"],
  ])("names the file and the field for %s", async (_what, text, message) => {
    const { file, result } = await load(text);
    await expect(result).rejects.toThrow(message);
    await expect(result).rejects.toThrow(file);
  });
});

describe("kubelet recipes", () => {
  let kubelet: RecipeBook;
  beforeAll(async () => {
    kubelet = await loadRecipeBook(recipeFile("kubelet"));
  });

  // Every minor from the first that enables kmem to the last before rc95, at .0 and a late patch.
  const MINORS: Array<[string, string, string]> = [
    ["1.8", "source-patch", "1.8"], ["1.9", "source-patch", "1.9"], ["1.10", "source-patch", "1.9"],
    ["1.11", "source-patch", "1.10"], ["1.12", "source-patch", "1.10"], ["1.13", "source-patch", "1.11"],
    ["1.14", "build-tag", "1.12"], ["1.15", "build-tag", "1.12"], ["1.16", "build-tag", "1.12"],
    ["1.17", "build-tag", "1.13"], ["1.18", "build-tag", "1.13"], ["1.19", "build-tag", "1.15"],
    ["1.20", "build-tag", "1.15"], ["1.21", "build-tag", "1.16"],
  ];

  it.each(MINORS)("v%s.x resolves with method %s and upstream Go %s", (minor, method, go) => {
    for (const patch of minor === "1.21" ? [0, 1] : [0, 1, 9, 15]) {
      const r = resolveRecipe(kubelet, `v${minor}.${patch}`);
      expect(r.recipe.method).toBe(method);
      expect(r.recipe.go).toBe(go);
      expect(r.recipe.goSource).toBeTruthy();
      expect(r.recipe.version).toEqual({ args: ["--version"], expect: ["Kubernetes {tag}"], exact: true });
      expect(r.recipe.env).toMatchObject({ KUBE_GIT_VERSION: "{tag}", KUBE_GIT_TREE_STATE: "clean" });
      expect(r.recipe.staticEnv).toEqual({ KUBE_STATIC_OVERRIDES: "kubelet" });
      if (method === "build-tag") expect(r.recipe.make).toEqual({ target: "kubelet", vars: { GOFLAGS: "-tags=nokmem" } });
      else expect(r.recipe.patch?.stub).toEqual(["EnableKernelMemoryAccounting", "setKernelMemory"]);
    }
  });

  it("caps Go at 1.17 (reflect2), and at 1.9 for 1.9.0-1.9.3 (Go versions compared as strings)", () => {
    expect(resolveRecipe(kubelet, "v1.18.6").recipe.maxGo?.version).toBe("1.17");
    expect(resolveRecipe(kubelet, "v1.18.6").recipe.maxGo?.reason).toMatch(/#104949/);
    expect(resolveRecipe(kubelet, "v1.9.3").recipe.maxGo?.version).toBe("1.9");
    expect(resolveRecipe(kubelet, "v1.9.4").recipe.maxGo?.version).toBe("1.17");
  });

  it("pins v1.18.6 and builds other tags unpinned without --allow-unpinned", () => {
    expect(resolveRecipe(kubelet, "v1.18.6").pinnedCommit).toBe("dff82dc0de47299ab66c83c626e08b245ab19037");
    expect(resolveRecipe(kubelet, "v1.12.8")).toMatchObject({ pinnedCommit: undefined, requirePins: false });
  });

  it.each(["v1.7.16", "v1.6.4", "v1.21.2", "v1.21.14", "v1.22.0", "v1.30.1"])("refuses %s with the reason", (tag) => {
    expect(() => resolveRecipe(kubelet, tag)).toThrow(/nothing to disable|needs no rebuild/);
  });
});
