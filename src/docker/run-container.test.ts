import { readFile, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it, onTestFinished } from "vitest";
import { FakeDocker, printsThenExits, runsUntilAborted, tarOf } from "../../test/unit/fake-docker.js";
import { runInContainer, type ContainerRunRequest, type ContainerRunResult } from "./run-container.js";

const request = (signal: AbortSignal): ContainerRunRequest => ({
  image: "busybox:fake",
  cmd: ["sh", "-c", "make"],
  env: {},
  workingDir: "/src",
  labels: { "io.nokmem-build": "true" },
  input: Readable.from([]),
  collect: "/out",
  sink: () => undefined,
  signal,
});

/** This process's temp directories for brought-out files: only a result's own may be left. */
const outDirsLeft = async () => (await readdir(os.tmpdir())).filter((n) => n.startsWith(`nokmem-build-out-${process.pid}-`)).map((n) => path.join(os.tmpdir(), n));

/** The first 1,000 bytes of a real archive: a header and part of the file, no end. */
async function truncated(): Promise<Readable> {
  const chunks: Buffer[] = [];
  for await (const c of await tarOf("out", { runc: "E".repeat(5000) })) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks).subarray(0, 1000)]);
}

interface Scenario {
  name: string;
  setup(fake: FakeDocker, abort: AbortController): void;
  /** What runInContainer settles with: a result it resolves to (and whether it copied /out), or the error it rejects with. */
  expected: { result: Partial<ContainerRunResult>; copiedOut: boolean } | RegExp;
}

const scenarios: Scenario[] = [
  {
    name: "a successful run",
    setup: (fake) => (fake.archive = () => tarOf("out", { runc: "ELF" })),
    expected: { result: { exitCode: 0, oomKilled: false }, copiedOut: true },
  },
  {
    name: "a non-zero exit",
    setup: (fake) => {
      fake.archive = () => tarOf("out", { runc: "ELF" });
      fake.onRun = printsThenExits(["error"], { exitCode: 2 });
    },
    expected: { result: { exitCode: 2, collected: undefined }, copiedOut: false },
  },
  {
    name: "its input failing",
    setup: (fake) => (fake.inputError = new Error("copying files into container: git archive: fatal: bad object")),
    expected: /git archive: fatal: bad object/,
  },
  {
    name: "run throwing",
    setup: (fake) =>
      (fake.onRun = async () => {
        throw new Error("running container: attach: connection reset");
      }),
    expected: /connection reset/,
  },
  {
    name: "an exit 0 with nothing on its output",
    setup: () => undefined, // the fake writes no archive
    expected: /^\/out came out of container fake0{8} incomplete \(.+\): run again; if it recurs, check the Docker engine$/,
  },
  {
    name: "an exit 0 with an archive cut short",
    setup: (fake) => (fake.archive = truncated),
    expected: /^\/out came out of container fake0{8} incomplete \(.+\): run again/,
  },
  {
    name: "an interrupt just as the process exits 0",
    setup: (fake, abort) => {
      fake.archive = () => tarOf("out", { runc: "ELF" });
      fake.onRun = async () => {
        abort.abort("SIGINT");
        return { exitCode: 0, oomKilled: false };
      };
    },
    expected: { result: { exitCode: 0, collected: undefined }, copiedOut: false },
  },
  {
    name: "an interrupt during the run",
    setup: (fake, abort) => {
      fake.archive = () => tarOf("out", { runc: "ELF" });
      fake.onRun = runsUntilAborted(() => abort.abort("SIGTERM"));
    },
    expected: { result: { exitCode: 137, collected: undefined }, copiedOut: false },
  },
];

describe("runInContainer, against a fake engine", () => {
  it.each(scenarios)("removes its container exactly once after $name", async ({ setup, expected }) => {
    const fake = new FakeDocker();
    const abort = new AbortController();
    setup(fake, abort);

    const settled = runInContainer(fake, request(abort.signal));
    if (expected instanceof RegExp) {
      await expect(settled).rejects.toThrow(expected);
    } else {
      const result = await settled;
      if (result.collected) await rm(result.collected, { recursive: true, force: true });
      expect(result).toMatchObject(expected.result);
      expect(Boolean(result.collected)).toBe(expected.copiedOut);
    }
    expect(await outDirsLeft()).toEqual([]);

    expect(fake.created.size).toBe(1);
    expect(fake.removed).toEqual([...fake.created.keys()]);
    expect(fake.live.size).toBe(0);
  });

  it("brings the collected directory out on the process's standard output after exit 0, into a host directory the caller owns", async () => {
    const fake = new FakeDocker();
    fake.archive = () => tarOf("out", { runc: "ELF", "version.txt": "runc version 1.0.0-rc9\n" });
    const result = await runInContainer(fake, request(new AbortController().signal));
    onTestFinished(() => rm(result.collected!, { recursive: true, force: true }));

    expect(await readFile(path.join(result.collected!, "out", "runc"), "utf8")).toBe("ELF");
    expect(await outDirsLeft()).toEqual([result.collected]);
    expect(fake.calls).toEqual(["createContainer", "run", "removeContainer"]);
    const spec = [...fake.created.values()][0]!;
    expect(spec.stdin).toBe(true);
    // The command's own output goes to the log; only tar writes the standard output.
    expect(spec.cmd).toEqual(["/bin/sh", "-c", 'parent=$1 name=$2; shift 2; "$@" >&2 && exec tar -cf - -C "$parent" "$name"', "sh", "/", "out", "sh", "-c", "make"]);
  });
});
