import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Component } from "../recipes/schema.js";

const run = promisify(execFile);

/** The services that run each binary: runc is started by containerd (and docker through it). */
export const SERVICES: Record<Component, string[]> = { runc: ["containerd", "docker"], kubelet: ["kubelet"] };

export interface RestartOutcome {
  restarted: string[];
  /** Set when systemctl is not there: the commands the operator must run. */
  manual: string[];
}

/** Restarts the active services that use the component, through systemctl found on PATH. */
export async function restartServices(component: Component): Promise<RestartOutcome> {
  const services = SERVICES[component];
  try {
    await run("systemctl", ["--version"]);
  } catch {
    return { restarted: [], manual: services.map((s) => `systemctl restart ${s}`) };
  }
  const restarted: string[] = [];
  for (const service of services) {
    const active = await run("systemctl", ["is-active", "--quiet", service]).then(() => true, () => false);
    if (!active) continue;
    await run("systemctl", ["restart", service]);
    restarted.push(service);
  }
  return { restarted, manual: [] };
}
