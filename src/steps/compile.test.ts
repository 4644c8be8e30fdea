import { readFile, writeFile } from "node:fs/promises";
import { simpleGit } from "simple-git";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildContext, scratchDir } from "../../test/unit/build-fixtures.js";
import { FakeDocker, printsThenExits, runsUntilAborted, tarOf } from "../../test/unit/fake-docker.js";
import { InterruptedError, UserError } from "../errors.js";
import type { BuildContext } from "../pipeline/context.js";
import { lookupRecipe } from "../recipes/lookup.js";
import { BuildFailedError, compileStep } from "./compile.js";

const ASSET = "runc-v1.0.0-rc9-nokmem-linux-amd64";
const MAKE = "make static BUILDTAGS='seccomp nokmem'";

/** The context as the steps before compile leave it: recipe, asset, a cached clone and a toolchain. */
async function compileContext(fake: FakeDocker, fields: Partial<BuildContext> = {}, memoryBytes = 0): Promise<BuildContext> {
  const sourceDir = await scratchDir("src");
  await writeFile(path.join(sourceDir, "main.go"), "package main\n");
  // The step packs the commit from git's objects.
  const git = simpleGit(sourceDir);
  await git.init().addConfig("user.email", "t@example.invalid").addConfig("user.name", "t");
  await git.add(".").commit("source");
  return buildContext(
    {
      docker: fake,
      recipe: await lookupRecipe("runc", "v1.0.0-rc9"),
      asset: ASSET,
      arch: "amd64",
      source: { dir: sourceDir, source: sourceDir, url: `file://${sourceDir}`, commit: (await git.revparse(["HEAD"])).trim(), pinned: true, cached: false, warnings: [] },
      toolchain: { goImage: "golang:fake", goImageId: "sha256:g", builderImage: "nokmem-build/builder:fake", builderImageId: "sha256:b", goVersion: "1.19.8", packages: {}, cached: true },
      ...fields,
    },
    { memoryBytes },
  );
}

const compile = (ctx: BuildContext) => compileStep.run(ctx, () => undefined);

/** The one container the step created was removed, once, and none is left. */
function expectContainerRemoved(fake: FakeDocker): void {
  expect(fake.created.size).toBe(1);
  expect(fake.removed).toEqual([...fake.created.keys()]);
  expect(fake.live.size).toBe(0);
}

describe("compile step, against a fake engine", () => {
  it("stages the binary and its version output from the container's /out", async () => {
    const fake = new FakeDocker();
    fake.onRun = printsThenExits(["go version go1.19.8 linux/amd64", `+ ${MAKE}`]);
    const versionText = "runc version 1.0.0-rc9\ncommit: d736ef14f0288d6993a1845745d6756cfc9ddd5a\n";
    fake.archive = () => tarOf("out", { [ASSET]: "ELF-BYTES", "version.txt": versionText });
    const ctx = await compileContext(fake, {}, 2 * 2 ** 30);

    await expect(compile(ctx)).resolves.toBeUndefined();

    expect(ctx.binary).toEqual({
      path: path.join(ctx.staging, ASSET),
      versionOutput: versionText.trim(),
      command: MAKE,
      env: expect.objectContaining({ GO111MODULE: "off", GOPATH: "/go" }),
    });
    expect(await readFile(ctx.binary!.path, "utf8")).toBe("ELF-BYTES");
    const [id, spec] = [...fake.created][0]!;
    expect(spec).toMatchObject({ image: "nokmem-build/builder:fake", labels: ctx.labels, memoryBytes: 2 * 2 ** 30, workingDir: "/go/src/github.com/opencontainers/runc" });
    expect(fake.copiedIn.get(id)).toContain("/go/src/github.com/opencontainers/runc/main.go");
    expectContainerRemoved(fake);
  });

  it("fails with BuildFailedError carrying the container's last output lines on a non-zero exit", async () => {
    const fake = new FakeDocker();
    const output = Array.from({ length: 30 }, (_, i) => `compiling package ${i}`).concat("make: *** [static] Error 2");
    fake.onRun = printsThenExits(output, { exitCode: 2 });
    const ctx = await compileContext(fake);
    const err = await compile(ctx).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(BuildFailedError);
    const failure = err as BuildFailedError;
    expect(failure.message).toBe(`\`${MAKE}\` failed in the build container (exit 2)`);
    expect(failure.logTail).toEqual(output.slice(-20));
    expect(ctx.binary).toBeUndefined();
    expectContainerRemoved(fake);
  });

  it.each([
    { case: "OOM-killed under --memory", exit: { exitCode: 137, oomKilled: true }, memory: 2 * 2 ** 30, limit: "the --memory limit of 2.0g" },
    { case: "OOM-killed without a limit", exit: { exitCode: 137, oomKilled: true }, memory: 0, limit: "the memory available to the engine" },
    { case: "killed (137) under --memory, OOM flag unset", exit: { exitCode: 137, oomKilled: false }, memory: 512 * 2 ** 20, limit: "the --memory limit of 512m" },
  ])("reports running out of memory, naming --memory, when $case", async ({ exit, memory, limit }) => {
    const fake = new FakeDocker();
    fake.onRun = printsThenExits(["linking kubelet"], exit);
    const err = await compile(await compileContext(fake, {}, memory)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(UserError);
    expect(err).not.toBeInstanceOf(BuildFailedError);
    expect((err as Error).message).toBe(
      `the build ran out of memory (compiler killed at ${limit}; the source tree, held in memory, counts too): raise --memory or free memory on the Docker host`,
    );
    expectContainerRemoved(fake);
  });

  it("treats exit 137 without a memory limit or OOM flag as a plain build failure", async () => {
    const fake = new FakeDocker();
    fake.onRun = printsThenExits(["Killed"], { exitCode: 137 });
    await expect(compile(await compileContext(fake))).rejects.toThrow(BuildFailedError);
    expectContainerRemoved(fake);
  });

  it("mounts the toolchain's Go build cache volume at GOCACHE: cold when made, warm after; a fresh anonymous one with --no-cache", async () => {
    const fake = new FakeDocker();
    fake.archive = () => tarOf("out", { [ASSET]: "ELF-BYTES", "version.txt": "runc version 1.0.0-rc9\n" });
    const states: unknown[] = [];
    for (const noCache of [false, false, true]) {
      const ctx = await compileContext(fake);
      ctx.options.noCache = noCache;
      await compile(ctx);
      states.push(ctx.goCache);
    }
    expect(states).toEqual(["cold", "warm", "off"]);
    const [first, second, third] = [...fake.created.values()];
    const gocache = first!.env.GOCACHE!;
    // The source tree is held in memory at the work directory every time, read from standard input.
    for (const spec of [first, second, third]) expect([spec!.tmpfs, spec!.stdin]).toEqual([[spec!.workingDir], true]);
    expect(first!.volumes).toEqual([{ name: expect.stringMatching(/^nokmem-build-gocache-/), target: gocache }]);
    expect(second!.volumes).toEqual(first!.volumes);
    expect(third!.volumes).toEqual([{ name: undefined, target: gocache }]);
    expect(third!.env.GOCACHE).toBe(gocache);
    expect([...fake.volumes.values()].map((v) => v.labels)).toEqual([
      expect.objectContaining({ "io.nokmem-build": "true", "io.nokmem-build.cache": "go-build", "io.nokmem-build.builder": "nokmem-build/builder:fake" }),
    ]);
  });

  it("throws InterruptedError when the signal aborts while the container runs, and copies nothing out", async () => {
    const fake = new FakeDocker();
    const abort = new AbortController();
    fake.onRun = runsUntilAborted(() => abort.abort("SIGINT"));
    fake.archive = () => tarOf("out", { [ASSET]: "ELF-BYTES", "version.txt": "runc version 1.0.0-rc9\n" });
    const ctx = await compileContext(fake, { signal: abort.signal });

    const err = await compile(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toBe("interrupted by SIGINT: nothing was written");
    expect(ctx.binary).toBeUndefined();
    expectContainerRemoved(fake);
  });
});
