import { readFile } from "node:fs/promises";
import path from "node:path";

/** A runc path the node's container engine configuration names explicitly (it then ignores PATH). */
export interface ConfiguredRunc {
  /** As the node sees it: absolute, or a bare name the engine looks up on PATH. */
  path: string;
  /** Where it is named, for messages: file and setting. */
  source: string;
}

const read = (file: string) => readFile(file, "utf8").catch(() => undefined);

/** dockerd's default runtime from /etc/docker/daemon.json: `default-runtime` and its `runtimes` entry's `path`. */
export function dockerDaemonRunc(text: string | undefined): ConfiguredRunc | undefined {
  if (!text) return undefined;
  let config: { runtimes?: Record<string, { path?: unknown }>; "default-runtime"?: unknown };
  try {
    config = JSON.parse(text);
  } catch {
    return undefined;
  }
  const name = typeof config["default-runtime"] === "string" ? config["default-runtime"] : "runc";
  const p = config.runtimes?.[name]?.path;
  return typeof p === "string" && p ? { path: p, source: `/etc/docker/daemon.json runtimes.${name}.path` } : undefined;
}

/**
 * RHEL's docker (1.13) names its runc in /etc/sysconfig/docker:
 * `--add-runtime docker-runc=/usr/libexec/docker/docker-runc-current --default-runtime=docker-runc`.
 */
export function sysconfigDockerRunc(text: string | undefined): ConfiguredRunc | undefined {
  if (!text) return undefined;
  const runtimes = new Map([...text.matchAll(/--add-runtime[= ]([\w.-]+)=(\S+?)(?=["'\s]|$)/g)].map((m) => [m[1]!, m[2]!]));
  const name = text.match(/--default-runtime[= ]([\w.-]+)/)?.[1] ?? "runc";
  const p = runtimes.get(name);
  return p ? { path: p, source: `/etc/sysconfig/docker --add-runtime ${name}=` } : undefined;
}

/**
 * containerd's runc from /etc/containerd/config.toml: `BinaryName` in the runc
 * runtime's options (CRI, config version 2), or `runtime` under `[plugins.linux]`
 * (the v1 linux runtime). Read line by line: a TOML parser for two keys is not worth a dependency.
 */
export function containerdRunc(text: string | undefined): ConfiguredRunc | undefined {
  if (!text) return undefined;
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const header = line.match(/^\[+\s*(.+?)\s*\]+$/);
    if (header) {
      section = header[1]!.replace(/"/g, "");
      continue;
    }
    const kv = line.match(/^(\w+)\s*=\s*["']([^"']*)["']$/);
    if (!kv || !kv[2]) continue;
    if (kv[1] === "BinaryName" && /runtimes\.[\w.-]+\.options$/.test(section)) return { path: kv[2], source: `/etc/containerd/config.toml [${section}] BinaryName` };
    if (kv[1] === "runtime" && /^plugins\.(linux|io\.containerd\.runtime\.v1\.linux)$/.test(section) && kv[2] !== "runc") {
      return { path: kv[2], source: `/etc/containerd/config.toml [${section}] runtime` };
    }
  }
  return undefined;
}

/** The runc paths the node's dockerd and containerd configurations name, under `root`. */
export async function configuredRuncs(root: string): Promise<ConfiguredRunc[]> {
  const found = [
    dockerDaemonRunc(await read(path.join(root, "etc/docker/daemon.json"))),
    sysconfigDockerRunc(await read(path.join(root, "etc/sysconfig/docker"))),
    containerdRunc(await read(path.join(root, "etc/containerd/config.toml"))),
  ].filter((c): c is ConfiguredRunc => c !== undefined);
  const seen = new Set<string>();
  return found.filter((c) => !seen.has(c.path) && seen.add(c.path));
}
