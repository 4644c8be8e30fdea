/**
 * One-shot containers (src/docker/run-container.ts) on the real engine: what a
 * build brings out comes back on the process's standard output as a tar
 * stream, its own output goes to the log, and the engine keeps no log of either.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectDocker } from "../../src/docker/engine.js";
import { runLabels } from "../../src/docker/labels.js";
import { runInContainer, type ContainerRunRequest } from "../../src/docker/run-container.js";
import { bootstrapGoImage, removeDir, run, toolContainers, toolTempEntries } from "../helpers.js";

let image: string;
const docker = connectDocker();
const kept: string[] = [];

beforeAll(async () => {
  image = await bootstrapGoImage("bookworm");
}, 30 * 60_000);

afterEach(async () => {
  await Promise.all(kept.splice(0).map(removeDir));
});

/** A run of `script` with /out collected; what it printed, by stream, in order. */
async function runScript(script: string, extra: Partial<ContainerRunRequest> = {}) {
  const printed: Array<{ stream: string; text: string }> = [];
  const result = await runInContainer(docker, {
    image,
    cmd: ["/bin/sh", "-c", script],
    env: {},
    workingDir: "/",
    labels: runLabels(`e2e-${randomBytes(3).toString("hex")}`),
    collect: "/out",
    sink: (stream, text) => printed.push({ stream, text }),
    ...extra,
  });
  if (result.collected) kept.push(result.collected);
  return { result, printed, text: printed.map((p) => p.text).join("") };
}

const outEntries = async () => (await toolTempEntries()).filter((n) => n.startsWith(`nokmem-build-out-${process.pid}-`));

describe("a build container's outputs, on the real engine", () => {
  it("brings /out back byte for byte on standard output (40 MB of random bytes), with the command's own output in the log and none in the engine's", async () => {
    const name = `e2e-logs-${randomBytes(3).toString("hex")}`;
    // The engine's view of the running container, asked while it sleeps.
    const script = [
      `echo "started ${name}"`,
      "sleep 3",
      "mkdir -p /out && head -c 40000000 /dev/urandom > /out/big && echo small > /out/version.txt",
      "sha256sum /out/big",
    ].join("; ");
    const logType = (async () => {
      for (let i = 0; i < 50; i++) {
        const { stdout } = await run("docker", ["ps", "-q", "--filter", "label=io.nokmem-build", "--filter", `label=io.nokmem-build.pid=${process.pid}`]);
        const id = stdout.trim().split("\n").filter(Boolean)[0];
        if (id) return (await run("docker", ["inspect", "-f", "{{.HostConfig.LogConfig.Type}}", id])).stdout.trim();
        await new Promise((r) => setTimeout(r, 100));
      }
      return "no container seen";
    })();
    const { result, printed, text } = await runScript(script, { input: Readable.from([]) });

    expect(result).toMatchObject({ exitCode: 0, oomKilled: false });
    expect(await logType).toBe("none");
    // What the command printed on its standard output reached the sink, as standard error: the archive owns standard output.
    expect(text).toContain(`started ${name}`);
    expect(new Set(printed.map((p) => p.stream))).toEqual(new Set(["stderr"]));
    const printedSum = text.match(/^([0-9a-f]{64}) {2}\/out\/big$/m)?.[1];
    const big = await readFile(path.join(result.collected!, "out", "big"));
    expect(big.length).toBe(40_000_000);
    expect(createHash("sha256").update(big).digest("hex")).toBe(printedSum);
    expect(await readFile(path.join(result.collected!, "out", "version.txt"), "utf8")).toBe("small\n");
    expect(await toolContainers({ pid: process.pid })).toEqual([]);
  }, 120_000);

  it("brings nothing out of a command that fails, and leaves no directory for it", async () => {
    const { result, text } = await runScript("mkdir -p /out && echo half > /out/binary && echo 'make: *** Error 2' && exit 3");

    expect(result).toEqual({ exitCode: 3, oomKilled: false, collected: undefined });
    expect(text).toContain("make: *** Error 2");
    expect(await outEntries()).toEqual([]);
    expect(await toolContainers({ pid: process.pid })).toEqual([]);
  }, 120_000);

  it("counts a command that made no /out as failed, with tar's words in the log, and leaves no directory for it", async () => {
    const { result, text } = await runScript("echo built nothing");

    expect(result).toMatchObject({ exitCode: 2, collected: undefined });
    expect(text).toMatch(/built nothing\n[^]*tar: out: Cannot stat: No such file or directory/);
    expect(await outEntries()).toEqual([]);
    expect(await toolContainers({ pid: process.pid })).toEqual([]);
  }, 120_000);
});
