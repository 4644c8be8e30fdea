import { describe, expect, it } from "vitest";
import { routeToSystemd, type RouteProbes } from "./systemctl.js";

/*
 * The choice of way to the node's systemd, with fake probes: nsenter into PID 1
 * needs --privileged, which this sandbox's engine refuses, so that branch is
 * proven here only; the chroot branch is also proven end to end (node-host e2e).
 */
function probes(facts: { pid1: boolean | string; files?: string[]; failing?: Record<string, string> }): RouteProbes & { ran: string[][] } {
  const ran: string[][] = [];
  return {
    ran,
    pid1RootIs: async () => facts.pid1,
    exists: async (file) => (facts.files ?? []).includes(file),
    runs: async (argv) => {
      ran.push(argv);
      return facts.failing?.[argv[0]!] ?? true;
    },
  };
}

describe("routeToSystemd", () => {
  it("root /: the systemctl on PATH, nothing entered", async () => {
    const p = probes({ pid1: true });
    expect(await routeToSystemd("/", p)).toEqual({ route: { via: "systemctl", argv: ["systemctl"], env: {}, name: "systemctl" }, tried: [] });
    expect(p.ran).toEqual([["systemctl", "--version"]]);
  });

  it("root / without systemctl: none, and why", async () => {
    expect(await routeToSystemd("/", probes({ pid1: true, failing: { systemctl: "systemctl is not installed here" } }))).toEqual({ tried: ["systemctl: systemctl is not installed here"] });
  });

  it("PID 1 is the host's init and may be entered: nsenter first, even when the host's systemctl is under the root", async () => {
    const p = probes({ pid1: true, files: ["/host/usr/bin/systemctl"] });
    const { route } = await routeToSystemd("/host", p);
    expect(route).toMatchObject({ via: "nsenter", name: "nsenter into PID 1's namespaces" });
    expect(route!.argv).toEqual(["nsenter", "--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid", "--", "systemctl"]);
    expect(p.ran).toEqual([[...route!.argv, "--version"]]);
  });

  it("PID 1 is the host's init but nsenter is refused (no SYS_ADMIN): the host's systemctl through chroot", async () => {
    const p = probes({ pid1: true, files: ["/host/usr/bin/systemctl"], failing: { nsenter: "nsenter: reassociate to namespace 'ns/ipc' failed: Operation not permitted" } });
    const { route, tried } = await routeToSystemd("/host", p);
    expect(route).toEqual({ via: "chroot", argv: ["chroot", "/host", "/usr/bin/systemctl"], env: { SYSTEMD_IGNORE_CHROOT: "1" }, name: "chroot /host" });
    expect(tried).toEqual(["nsenter into PID 1: nsenter: reassociate to namespace 'ns/ipc' failed: Operation not permitted"]);
  });

  it("PID 1 is another init (no --pid=host) or cannot be seen: chroot, nsenter never run", async () => {
    for (const pid1 of [false, "PID 1's root cannot be seen from here (not privileged)"]) {
      const p = probes({ pid1, files: ["/host/bin/systemctl"] });
      const { route } = await routeToSystemd("/host", p);
      expect(route).toMatchObject({ via: "chroot", argv: ["chroot", "/host", "/bin/systemctl"] });
      expect(p.ran.map((a) => a[0])).toEqual(["chroot"]);
    }
  });

  it("nothing reaches the host: every way tried is named, so install can advise", async () => {
    expect(await routeToSystemd("/host", probes({ pid1: false }))).toEqual({
      tried: [
        "nsenter into PID 1: PID 1 is not the init of /host (run the container with --pid=host)",
        "chroot /host: no systemctl under /host (/usr/bin/systemctl, /bin/systemctl)",
      ],
    });
    const noChroot = await routeToSystemd("/host", probes({ pid1: false, files: ["/host/usr/bin/systemctl"], failing: { chroot: "chroot: cannot change root directory to '/host': Operation not permitted" } }));
    expect(noChroot.route).toBeUndefined();
    expect(noChroot.tried[1]).toBe("chroot /host: chroot: cannot change root directory to '/host': Operation not permitted");
  });
});
