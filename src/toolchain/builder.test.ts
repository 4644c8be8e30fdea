import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir } from "../../test/unit/build-fixtures.js";
import { FakeDocker, printsThenExits } from "../../test/unit/fake-docker.js";
import { ensureBuilderImage } from "./builder.js";

const options = (probeCache: string, accepted: string[]) => ({ accept: (v: string) => void accepted.push(v), labels: {}, onLine: () => undefined, probeCache });

describe("the builder image's probe", () => {
  it("is asked of the image once per image id, then read from --cache-dir; the Go window is still checked each time", async () => {
    const fake = new FakeDocker();
    fake.onRun = printsThenExits(["go version go1.19.8 linux/amd64", "gcc 4:12.2.0-3"]);
    const dir = path.join(await scratchDir("probes"), "toolchains");
    const accepted: string[] = [];
    const first = await ensureBuilderImage(fake, "nokmem-build/go:bookworm", "sha256:go", options(dir, accepted));
    const second = await ensureBuilderImage(fake, "nokmem-build/go:bookworm", "sha256:go", options(dir, accepted));
    expect(fake.calls.filter((c) => c === "createContainer")).toHaveLength(1);
    expect(second).toEqual(first);
    expect(first).toMatchObject({ goVersion: "1.19.8", packages: { gcc: "4:12.2.0-3" } });
    expect(accepted).toEqual(["1.19.8", "1.19.8"]);
    const kept = path.join(dir, `${first.builderImageId.replace(/^sha256:/, "").replace(/[^\w.-]/g, "_")}.json`);
    expect(JSON.parse(await readFile(kept, "utf8"))).toEqual({ goVersion: "1.19.8", packages: { gcc: "4:12.2.0-3" } });
  });

  it("probes again when the kept file is damaged, and rewrites it", async () => {
    const fake = new FakeDocker();
    fake.onRun = printsThenExits(["go version go1.15.15 linux/amd64"]);
    const dir = path.join(await scratchDir("probes"), "toolchains");
    const first = await ensureBuilderImage(fake, "nokmem-build/go:bullseye", "sha256:go", options(dir, []));
    const kept = path.join(dir, `${first.builderImageId.replace(/^sha256:/, "").replace(/[^\w.-]/g, "_")}.json`);
    await writeFile(kept, '{"goVersion": ""}');
    await ensureBuilderImage(fake, "nokmem-build/go:bullseye", "sha256:go", options(dir, []));
    expect(fake.calls.filter((c) => c === "createContainer")).toHaveLength(2);
    expect(JSON.parse(await readFile(kept, "utf8"))).toEqual({ goVersion: "1.15.15", packages: {} });
  });

  it("is asked once when targets start on the same image at the same time (build --jobs)", async () => {
    const fake = new FakeDocker();
    fake.onRun = printsThenExits(["go version go1.19.8 linux/amd64"]);
    const dir = path.join(await scratchDir("probes"), "toolchains");
    const accepted: string[] = [];
    const [a, b] = await Promise.all([1, 2].map(() => ensureBuilderImage(fake, "nokmem-build/go:bookworm", "sha256:go", options(dir, accepted))));
    expect(fake.calls.filter((c) => c === "createContainer")).toHaveLength(1);
    expect(b).toEqual(a);
    expect(accepted).toEqual(["1.19.8", "1.19.8"]);
  });
});

