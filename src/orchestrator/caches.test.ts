import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scratchDir } from "../../test/unit/build-fixtures.js";
import { FakeDocker } from "../../test/unit/fake-docker.js";
import { ENV } from "../env.js";
import { ensureGoCache } from "../toolchain/go-cache.js";
import { listCaches, pruneCaches } from "./caches.js";

/** A cache dir with one runc source clone (3 bytes) and one failed-build log (5 bytes). */
async function cacheDirWithSources(): Promise<string> {
  const dir = await scratchDir("cachedir");
  await mkdir(path.join(dir, "sources", "runc-0123456789ab", "v1.0.0-rc9"), { recursive: true });
  await writeFile(path.join(dir, "sources", "runc-0123456789ab", "v1.0.0-rc9", "main.go"), "abc");
  await mkdir(path.join(dir, "logs"));
  await writeFile(path.join(dir, "logs", "runc-x.log"), "hello");
  return dir;
}

// Without a scope unless a test sets one, whatever the run's environment (the e2e setup sets one).
const unscoped = () => delete process.env[ENV.cacheScope];
beforeEach(unscoped);
afterEach(unscoped);

describe("cache list and prune", () => {
  it("lists the tool's cache volumes with the engine's sizes, then the source clones and logs under --cache-dir", async () => {
    const fake = new FakeDocker();
    const { name } = await ensureGoCache(fake, "nokmem-build/builder:abc", "sha256:0123456789abcdef");
    fake.volumes.get(name)!.size = 4096;
    fake.volumes.set("someone-elses", { labels: {}, size: 1 });
    const dir = await cacheDirWithSources();

    const report = await listCaches(fake, dir);
    expect(report.engineError).toBeUndefined();
    expect(report.entries).toEqual([
      { kind: "volume", name: "nokmem-build-gocache-0123456789ab", size: 4096, detail: "Go build cache of nokmem-build/builder:abc" },
      { kind: "sources", name: path.join(dir, "sources", "runc-0123456789ab", "v1.0.0-rc9"), size: expect.any(Number), detail: "runc v1.0.0-rc9 source" },
      { kind: "logs", name: path.join(dir, "logs"), size: expect.any(Number), detail: "1 failed-build log(s)" },
    ]);
    expect(report.entries[1]!.size).toBeGreaterThanOrEqual(3);

    const pruned = await pruneCaches(fake, report);
    expect(pruned.every((p) => p.removed)).toBe(true);
    expect([...fake.volumes.keys()]).toEqual(["someone-elses"]);
    expect(existsSync(path.join(dir, "sources", "runc-0123456789ab", "v1.0.0-rc9"))).toBe(false);
    expect(existsSync(path.join(dir, "logs"))).toBe(false);
  });

  it("keeps a scope's volumes apart: named and labelled by it, and the only ones listed under it", async () => {
    const fake = new FakeDocker();
    await ensureGoCache(fake, "b", "sha256:aaaaaaaaaaaaaaaa");
    process.env[ENV.cacheScope] = "ci-42";
    const scoped = await ensureGoCache(fake, "b", "sha256:aaaaaaaaaaaaaaaa");
    expect(scoped).toEqual({ name: "nokmem-build-gocache-ci-42-aaaaaaaaaaaa", state: "cold" });
    const report = await listCaches(fake, await scratchDir("empty"));
    expect(report.entries.map((e) => e.name)).toEqual([scoped.name]);
  });

  it("still lists the directories when the engine does not answer, and says why the volumes are missing", async () => {
    const fake = new FakeDocker();
    fake.pingError = new Error("no Docker engine answers at unix:///fake/docker.sock");
    const report = await listCaches(fake, await cacheDirWithSources());
    expect(report.engineError).toMatch(/no Docker engine answers/);
    expect(report.entries.map((e) => e.kind)).toEqual(["sources", "logs"]);
  });
});
