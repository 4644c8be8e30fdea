/**
 * Benchmark: a cold `nokmem-build runc` (empty source cache, builder image
 * present) against a bare `docker run … make static` of the same source in
 * the same builder image, plus the sha256 of successive builds.
 *
 *   npx tsx test/bench/runc-cold.ts [--runs N] [--source REPO] [--tag TAG]
 *
 * Without --source it builds the test fixture repository (no upstream access here).
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { createRuncFixture } from "../fixtures/runc-fixture.js";

const run = promisify(execFile);
const CLI = new URL("../../lib/cli.js", import.meta.url).pathname;
const { values } = parseArgs({
  options: { runs: { type: "string", default: "3" }, source: { type: "string" }, tag: { type: "string", default: "v1.0.0-rc9" } },
});
const runs = Number(values.runs);
const tag = values.tag!;

function timed(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CI: "true" } });
    child.on("close", (code) =>
      code === 0 ? resolve(Number(process.hrtime.bigint() - start) / 1e9) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}`)),
    );
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const work = await mkdtemp(path.join(os.tmpdir(), "nokmem-bench-"));
try {
  const source = values.source ?? path.join(work, "upstream-runc");
  if (!values.source) await createRuncFixture(source);
  const goImage = JSON.parse((await run(process.execPath, [CLI, "toolchain", "bootstrap", "--json"])).stdout).image;

  const tool: number[] = [];
  const shas: string[] = [];
  let builderImage = "";
  for (let i = 0; i < runs; i++) {
    const out = path.join(work, `out-${i}`);
    const cache = path.join(work, `cache-${i}`); // cold: nothing cached
    tool.push(
      await timed(process.execPath, [CLI, "runc", tag, "--source", source, "--allow-unpinned", "--go-image", goImage, "--out", out, "--cache-dir", cache]),
    );
    const manifest = JSON.parse(await readFile(path.join(out, `runc-${tag}-nokmem-linux-amd64.json`), "utf8"));
    shas.push(manifest.binary.sha256);
    builderImage = manifest.toolchain.builderImage;
  }

  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    const src = path.join(work, `bare-${i}`);
    await run("git", ["clone", "-q", "--depth=1", `--branch=${tag}`, `file://${source}`, src]);
    bare.push(
      await timed("docker", [
        "run", "--rm", "--network", "none",
        "-v", `${src}:/go/src/github.com/opencontainers/runc`, "-w", "/go/src/github.com/opencontainers/runc",
        "-e", "GO111MODULE=off", "-e", "GOPATH=/go",
        builderImage, "make", "static", "BUILDTAGS=seccomp nokmem",
      ]),
    );
  }

  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
  console.log(`runc ${tag} from ${values.source ?? "the test fixture"}, ${runs} runs each, builder ${builderImage}`);
  console.log(`cold nokmem-build runc : ${fmt(tool)} s (median ${median(tool).toFixed(2)})`);
  console.log(`bare docker run make   : ${fmt(bare)} s (median ${median(bare).toFixed(2)})`);
  console.log(`ratio (median)         : ${(median(tool) / median(bare)).toFixed(2)}`);
  console.log(`sha256 of the builds   : ${[...new Set(shas)].join(", ")} (${new Set(shas).size === 1 ? "all equal" : "DIFFERENT"})`);
} finally {
  await rm(work, { recursive: true, force: true });
}
