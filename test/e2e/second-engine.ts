import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdir, readFile, readdir, rmdir } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { removeDir, run } from "../helpers.js";

/**
 * A second Docker engine of the test's own, on a unix socket under `dir`, with
 * its own data, exec root, cgroup parent and containerd: it can be killed
 * (SIGKILL, as a crash would) without touching the machine's engine.
 */
export interface SecondEngine {
  /** For DOCKER_HOST and `docker -H`. */
  host: string;
  /** dockerd's pid. */
  pid(): number;
  /** Runs `docker -H host …`. */
  docker(args: string[]): Promise<string>;
  /** Starts dockerd (again, on the same data after a kill). */
  start(): Promise<void>;
  /** SIGKILL, as a crash or the OOM killer would; resolves once it is gone. */
  kill(): Promise<void>;
  /** Stops dockerd, ends what it left running (shims and their containers), unmounts and removes `dir`. */
  destroy(): Promise<void>;
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));

/** Processes whose command line names `dir`: the shims of our engine's containers (dockerd and containerd die with it). */
async function processesUnder(dir: string): Promise<Array<{ pid: number; args: string }>> {
  const found: Array<{ pid: number; args: string }> = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes(dir)) continue;
    found.push({ pid: Number(name), args: cmdline.replaceAll("\0", " ") });
  }
  return found;
}

async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return text.split(/\s+/).filter(Boolean).map(Number);
}

export async function startSecondEngine(dir: string): Promise<SecondEngine> {
  await mkdir(dir, { recursive: true });
  const host = `unix://${path.join(dir, "docker.sock")}`;
  const cgroupParent = `nokmem-faults-${process.pid}`;
  let child: ChildProcess | undefined;

  const docker = async (args: string[]) => (await run("docker", ["-H", host, ...args], { maxBuffer: 64 << 20 })).stdout;

  const engine: SecondEngine = {
    host,
    pid: () => child!.pid!,
    docker,
    async start() {
      const log = openSync(path.join(dir, "dockerd.log"), "a");
      child = spawn(
        "dockerd",
        [
          "-H", host, "--data-root", path.join(dir, "data"), "--exec-root", path.join(dir, "exec"), "--pidfile", path.join(dir, "docker.pid"),
          "--iptables=false", "--ip6tables=false", "--bridge=none", "--cgroup-parent", cgroupParent,
        ],
        { stdio: ["ignore", log, log] },
      );
      closeSync(log);
      for (let i = 0; i < 600; i++) {
        if (child.exitCode !== null) {
          const log = await readFile(path.join(dir, "dockerd.log"), "utf8");
          const notes = log.split("\n").filter((l) => !l.includes("[core]") && /level=(warning|error|fatal)|^[a-z]/.test(l));
          throw new Error(`dockerd exited ${child.exitCode}:\n${notes.slice(-20).join("\n")}`);
        }
        if (await docker(["version", "--format", "{{.Server.Version}}"]).then(() => true, () => false)) return;
        await sleep(100);
      }
      throw new Error(`dockerd on ${host} did not come up in 60 s`);
    },
    async kill() {
      child!.kill("SIGKILL");
      await exited(child!);
      // Its containerd dies with it (parent-death signal); until that zombie is reaped, a restarted
      // dockerd takes it for alive (its pid file) and waits on its socket in vain.
      const containerd = Number(await readFile(path.join(dir, "exec/containerd/containerd.pid"), "utf8").catch(() => ""));
      for (let i = 0; containerd && existsSync(`/proc/${containerd}`) && i < 600; i++) await sleep(100);
    },
    async destroy() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited(child), sleep(30_000)]);
        if (child.exitCode === null && child.signalCode === null) await engine.kill();
      }
      // What a killed engine leaves: shims (and the containers under them), by pid.
      const end = (pid: number) => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone already
        }
      };
      for (const shim of await processesUnder(dir)) {
        (await childrenOf(shim.pid)).forEach(end);
        end(shim.pid);
      }
      await sleep(500);
      const mounts = (await readFile("/proc/self/mountinfo", "utf8"))
        .split("\n")
        .map((l) => l.split(" ")[4])
        .filter((m): m is string => Boolean(m?.startsWith(dir)))
        .sort()
        .reverse();
      for (const m of mounts) await run("umount", ["-l", m]).catch(() => undefined);
      for (const controller of await readdir("/sys/fs/cgroup").catch(() => [])) {
        const parent = path.join("/sys/fs/cgroup", controller, cgroupParent);
        for (const c of await readdir(parent).catch(() => [])) await rmdir(path.join(parent, c)).catch(() => undefined);
        await rmdir(parent).catch(() => undefined);
      }
      await removeDir(dir);
    },
  };
  await engine.start();
  return engine;
}
