import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/**
 * How a systemctl command reaches the systemd of the node under --root. A
 * systemctl run as-is inside the node image would talk to the container's own
 * systemd (there is none), never the host's.
 */
export interface SystemctlRoute {
  via: "systemctl" | "nsenter" | "chroot";
  /** What comes before systemctl's own arguments. */
  argv: string[];
  env: Record<string, string>;
  /** For reports: "systemctl", "nsenter into PID 1's namespaces", "chroot /host". */
  name: string;
}

/** What the choice depends on; real probes below, fakes in the unit test (nsenter cannot be run in this sandbox). */
export interface RouteProbes {
  /** Whether PID 1's root directory is `root`: true, false, or why it cannot be seen. */
  pid1RootIs(root: string): Promise<boolean | string>;
  /** Whether a file exists at this path (as seen here). */
  exists(file: string): Promise<boolean>;
  /** Whether the command runs and exits 0, or why not. */
  runs(argv: string[], env: Record<string, string>): Promise<true | string>;
}

const NSENTER = ["nsenter", "--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid", "--", "systemctl"];
/** The node's own systemctl, as paths on the node (merged /usr first). */
const NODE_SYSTEMCTL = ["/usr/bin/systemctl", "/bin/systemctl"];

const firstLine = (text: string) => text.trim().split("\n")[0] ?? "";

export const realProbes: RouteProbes = {
  async pid1RootIs(root) {
    try {
      const [pid1, mine] = await Promise.all([stat("/proc/1/root/"), stat(root)]);
      return pid1.dev === mine.dev && pid1.ino === mine.ino;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "EACCES" ? "PID 1's root cannot be seen from here (not privileged)" : String((err as Error).message);
    }
  },
  exists: (file) => stat(file).then((s) => s.isFile(), () => false),
  runs: (argv, env) =>
    exec(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, timeout: 30_000 }).then(
      () => true as const,
      (err: NodeJS.ErrnoException & { stderr?: string }) => (err.code === "ENOENT" ? `${argv[0]} is not installed here` : firstLine(err.stderr ?? "") || err.message),
    ),
};

/**
 * The way to the node's systemd, tried in this order:
 * - root /: the systemctl on PATH (the running system's own);
 * - nsenter into PID 1's namespaces, when PID 1's root is --root: PID 1 is the
 *   host's init (host PID namespace) and we may look into it, so systemctl runs
 *   exactly as on the host (needs --privileged, or SYS_ADMIN and SYS_PTRACE);
 * - chroot --root, running the node's own systemctl, which reaches the host's
 *   systemd through the socket under --root/run: needs only CAP_SYS_CHROOT,
 *   which containers have by default. SYSTEMD_IGNORE_CHROOT keeps systemd
 *   v233+ from ignoring start/restart in a chroot; older ones (el7's 219) only
 *   do so when PID 1's root differs from /, which holds for the host's root.
 * None found: `tried` says why each did not work; the caller advises instead.
 */
export async function routeToSystemd(root: string, probes: RouteProbes = realProbes): Promise<{ route?: SystemctlRoute; tried: string[] }> {
  if (path.resolve(root) === "/") {
    const ok = await probes.runs(["systemctl", "--version"], {});
    return ok === true ? { route: { via: "systemctl", argv: ["systemctl"], env: {}, name: "systemctl" }, tried: [] } : { tried: [`systemctl: ${ok}`] };
  }
  const tried: string[] = [];
  const pid1 = await probes.pid1RootIs(root);
  if (pid1 === true) {
    const ok = await probes.runs([...NSENTER, "--version"], {});
    if (ok === true) return { route: { via: "nsenter", argv: NSENTER, env: {}, name: "nsenter into PID 1's namespaces" }, tried };
    tried.push(`nsenter into PID 1: ${ok}`);
  } else {
    tried.push(`nsenter into PID 1: ${pid1 === false ? `PID 1 is not the init of ${root} (run the container with --pid=host)` : pid1}`);
  }
  let systemctl: string | undefined;
  for (const candidate of NODE_SYSTEMCTL) if (!systemctl && (await probes.exists(path.join(root, candidate)))) systemctl = candidate;
  if (!systemctl) {
    tried.push(`chroot ${root}: no systemctl under ${root} (${NODE_SYSTEMCTL.join(", ")})`);
    return { tried };
  }
  const argv = ["chroot", root, systemctl];
  const env = { SYSTEMD_IGNORE_CHROOT: "1" };
  const ok = await probes.runs([...argv, "--version"], env);
  if (ok === true) return { route: { via: "chroot", argv, env, name: `chroot ${root}` }, tried };
  tried.push(`chroot ${root}: ${ok}`);
  return { tried };
}

/** Runs systemctl with `args` along the route: its exit code and stderr. */
export async function systemctl(route: SystemctlRoute, args: string[]): Promise<{ code: number; stderr: string }> {
  return exec(route.argv[0]!, [...route.argv.slice(1), ...args], { env: { ...process.env, ...route.env }, timeout: 120_000 }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (err: { code?: number | string; stderr?: string; message: string }) => ({ code: typeof err.code === "number" ? err.code : -1, stderr: err.stderr || err.message }),
  );
}
