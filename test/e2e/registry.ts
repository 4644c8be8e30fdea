import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { removeDir, run, tempDir } from "../helpers.js";

/** A real container registry (Debian's docker-registry, distribution 2.8) on 127.0.0.1, storage in a temp dir. */
export interface LocalRegistry {
  /** host:port, e.g. 127.0.0.1:40123 */
  address: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRegistry(): Promise<LocalRegistry> {
  const dir = await tempDir("registry");
  const address = `127.0.0.1:${await freePort()}`;
  const config = path.join(dir, "config.yml");
  await writeFile(
    config,
    ["version: 0.1", "storage:", "  filesystem:", `    rootdirectory: ${path.join(dir, "data")}`, "http:", `  addr: ${address}`, ""].join("\n"),
  );
  const child: ChildProcess = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
  const stop = async () => {
    child.kill("SIGTERM");
    await removeDir(dir);
  };
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://${address}/v2/`).then((r) => r.ok, () => false);
    if (up) return { address, stop };
    await sleep(100);
  }
  await stop();
  throw new Error(`docker-registry did not answer on ${address}`);
}

/** Puts a local image into the registry as <address>/library/<name>, then drops the local tag so a pull must fetch it. */
export async function pushAs(registry: LocalRegistry, image: string, name: string): Promise<string> {
  const ref = `${registry.address}/library/${name}`;
  await run("docker", ["tag", image, ref]);
  await run("docker", ["push", "-q", ref], { maxBuffer: 16 << 20 });
  await run("docker", ["rmi", ref]);
  return ref;
}
