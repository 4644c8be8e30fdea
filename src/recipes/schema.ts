import * as z from "zod";
import { SUITE_NAMES } from "./suites.js";
import { isValidRange } from "./version.js";

const range = z.string().min(1).refine(isValidRange, { message: "not a valid version range" });
/** A path inside the source tree: relative, and not climbing out of it. */
const relativePath = () =>
  z.string().min(1).refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), {
    message: "must be a relative path inside the source tree",
  });
const commit = z.string().regex(/^[0-9a-f]{40}$/, "must be a full 40-hex commit id");

export const recipeSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
  range,
  /** gopath: built at $GOPATH/src/<importPath> with GO111MODULE=off; modules: go.mod + vendor/. */
  layout: z.enum(["gopath", "modules"]),
  /** The Go minor upstream built these tags with; a toolchain with another Go gets a warning. */
  go: z.string().regex(/^\d+\.\d+$/, "must be a Go minor version such as 1.13"),
  /**
   * The Debian suite whose golang-go builds these tags by default; absent when
   * no suite's Go fits the window (then only --go-image builds them, and the
   * release workflow leaves them out).
   */
  suite: z.enum(SUITE_NAMES).optional(),
  /** Oldest Go the release's own build accepts (hack/lib/golang.sh minimum_go_version), and where that was read. */
  minGo: z
    .strictObject({
      version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "must be a Go version such as 1.13.4"),
      source: z.string().min(1),
    })
    .optional(),
  make: z.strictObject({
    target: z.string().min(1),
    vars: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}),
  }),
  /** Extra environment for the build; values may use {tag}, {version} and {commit}. */
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}),
  /** Environment that makes the build static; left out with --link dynamic. */
  staticEnv: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}),
  /** How kmem accounting is turned off: a build tag, or stubbing functions in the source. */
  method: z.enum(["build-tag", "source-patch"]),
  patch: z
    .strictObject({
      file: z.string().min(1),
      stub: z.array(z.string().regex(/^[A-Za-z_]\w*$/)).min(1),
    })
    .optional(),
  /** Newest Go that builds a working binary, and why (a newer one is refused). */
  maxGo: z
    .strictObject({
      version: z.string().regex(/^\d+\.\d+$/),
      reason: z.string().min(1),
    })
    .optional(),
  /** Where the Go version was read, so it can be checked again. */
  goSource: z.string().min(1).optional(),
  /**
   * Where the release's own build scripts put the Go build cache, relative to
   * the source root (kubelet: hack/lib/golang.sh exports GOCACHE=${KUBE_GOPATH}/cache,
   * overriding ours). The cache volume is mounted there and GOCACHE points there too.
   */
  goCache: relativePath().optional(),
  /** Path of the built binary, relative to the source root. */
  artifact: relativePath(),
  /**
   * Whether the build reads git (a Makefile's `git rev-parse HEAD`, `git status`).
   * When the stamp comes from `env` alone, the tree goes in without its .git: for
   * a Kubernetes-sized tree that is as many bytes again not written.
   */
  gitMetadata: z.boolean().default(true),
  /**
   * How the built binary proves its stamp: it is run with `args` inside the
   * build container and must print each `expect` line, with {version} (tag
   * without the v), {tag} and {commit} filled in. Output containing "-dirty" fails.
   */
  version: z.strictObject({
    args: z.array(z.string()).min(1),
    expect: z.array(z.string().min(1)).min(1),
    /** The output must be exactly the expected lines (kubeadm parses `kubelet --version`). */
    exact: z.boolean().default(false),
  }),
}).refine((r) => (r.method === "source-patch") === (r.patch !== undefined), {
  message: "a source-patch recipe needs `patch`, and only a source-patch recipe may have one",
  path: ["patch"],
});

export const recipeBookSchema = z.strictObject({
  component: z.enum(["runc", "kubelet"]),
  upstream: z.string().min(1),
  importPath: z.string().min(1),
  defaultVersion: z.string().optional(),
  refusals: z.array(z.strictObject({ range, reason: z.string().min(1) })).default([]),
  recipes: z.array(recipeSchema).min(1),
  pins: z.record(z.string(), commit).default({}),
  /** The version a tag's binary reports, where upstream's VERSION file says another (tag -> version). */
  stamps: z.record(z.string(), z.string().regex(/^\d+\.\d+\.\d+(-[0-9a-z.]+)?$/)).default({}),
  /** The versions the release workflow builds and publishes (default: the pinned tags). */
  published: z.array(z.string()).optional(),
  /** Anchors the recipes share through YAML merge keys; not read otherwise. */
  shared: z.record(z.string(), z.unknown()).optional(),
  /** When true (runc), a tag must be pinned unless --allow-unpinned; when false (kubelet, hundreds of patch releases), unpinned tags build and the manifest says so. */
  requirePins: z.boolean().default(true),
});

export type Recipe = z.infer<typeof recipeSchema>;
export type RecipeBook = z.infer<typeof recipeBookSchema>;
export type Component = RecipeBook["component"];
