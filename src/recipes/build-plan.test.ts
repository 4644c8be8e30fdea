import { describe, expect, it } from "vitest";
import { planBuild, shq } from "./build-plan.js";
import type { Recipe } from "./schema.js";

const recipe = (layout: Recipe["layout"]): Recipe => ({
  id: "r",
  range: "*",
  layout,
  go: "1.13",
  goImage: "go",
  make: { target: "static", vars: { BUILDTAGS: "seccomp nokmem" } },
  artifact: "runc",
  version: { args: ["--version"], expect: ["x"] },
});

describe("build plan", () => {
  it("builds GOPATH-era tags at their import path with modules off", () => {
    const plan = planBuild(recipe("gopath"), "github.com/opencontainers/runc", "asset");
    expect(plan.workDir).toBe("/go/src/github.com/opencontainers/runc");
    expect(plan.env).toMatchObject({ GOPATH: "/go", GO111MODULE: "off", GIT_CONFIG_KEY_0: "safe.directory" });
    expect(plan.command).toBe("make static BUILDTAGS='seccomp nokmem'");
    expect(plan.script).toContain("/out/asset --version > /out/version.txt");
  });

  it("builds modules-era tags with modules on", () => {
    expect(planBuild(recipe("modules"), "github.com/opencontainers/runc", "a").env.GO111MODULE).toBe("on");
  });

  it("puts GOCACHE (the cache volume's mount) where the release's own scripts put it, else outside the tree", () => {
    expect(planBuild(recipe("gopath"), "github.com/opencontainers/runc", "a").goCache).toBe("/tmp/go-build-cache");
    const kube = planBuild({ ...recipe("gopath"), goCache: "_output/local/go/cache" }, "k8s.io/kubernetes", "a");
    expect(kube.goCache).toBe("/go/src/k8s.io/kubernetes/_output/local/go/cache");
    expect(kube.env.GOCACHE).toBe(kube.goCache);
  });

  it("quotes for the shell", () => {
    expect(shq("plain-word_1.2")).toBe("plain-word_1.2");
    expect(shq("it's here")).toBe(`'it'\\''s here'`);
  });
});
