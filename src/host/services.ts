import { UserError } from "../errors.js";
import type { Component } from "../recipes/schema.js";
import { routeToSystemd, systemctl } from "./systemctl.js";

/** The services that run each binary: runc is started by containerd (and docker through it). */
export const SERVICES: Record<Component, string[]> = { runc: ["containerd", "docker"], kubelet: ["kubelet"] };

export interface RestartOutcome {
  restarted: string[];
  /** How systemd was reached ("chroot /host", …); null when it was not. */
  via: string | null;
  /** Set when the node's systemd could not be reached: the commands the operator must run. */
  manual: string[];
  /** Why it could not be reached, one reason per way tried. */
  unreachable: string[];
}

// systemd refuses to act from what it takes for a chroot and still exits 0.
const IGNORED_IN_CHROOT = /Running in chroot, ignoring/;

/** Restarts the active services that use the component, through the node's own systemd (see routeToSystemd). */
export async function restartServices(component: Component, root: string): Promise<RestartOutcome> {
  const services = SERVICES[component];
  const advice = (why: string[]): RestartOutcome => ({ restarted: [], via: null, manual: services.map((s) => `systemctl restart ${s}`), unreachable: why });
  const { route, tried } = await routeToSystemd(root);
  if (!route) return advice(tried);
  const restarted: string[] = [];
  for (const service of services) {
    const active = await systemctl(route, ["is-active", "--quiet", service]);
    if (IGNORED_IN_CHROOT.test(active.stderr)) return advice([`${route.name}: the node's systemctl believes it runs in a chroot and ignores requests`]);
    if (active.code !== 0) continue;
    const done = await systemctl(route, ["restart", service]);
    if (done.code !== 0 || IGNORED_IN_CHROOT.test(done.stderr)) {
      const why = done.stderr.trim().split("\n")[0] || `exit code ${done.code}`;
      throw new UserError(`systemctl restart ${service} (through ${route.name}) failed: ${why}; the binary is in place: see journalctl -u ${service} on the node`);
    }
    restarted.push(service);
  }
  return { restarted, via: route.name, manual: [], unreachable: [] };
}
