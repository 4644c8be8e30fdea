import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
const ATTR = "security.selinux";

/**
 * A file's SELinux label (the security.selinux extended attribute), read with
 * getfattr from the attr package: Node.js has no xattr API. `missing`: getfattr
 * is not installed; undefined label: the file has none.
 */
export async function readLabel(file: string): Promise<{ label?: string; missing?: true }> {
  try {
    const { stdout } = await run("getfattr", ["--absolute-names", "--only-values", "-n", ATTR, file]);
    return stdout ? { label: stdout.replace(/\0$/, "") } : {};
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") return { missing: true };
    // "No such attribute", or a file system without extended attributes.
    return {};
  }
}

/** Sets the label with setfattr; the error's message when it cannot. */
export async function writeLabel(file: string, label: string): Promise<string | undefined> {
  return run("setfattr", ["-n", ATTR, "-v", label, file]).then(
    () => undefined,
    (err: NodeJS.ErrnoException & { stderr?: string }) => (err.code === "ENOENT" ? "setfattr (attr package) is not installed" : (err.stderr?.trim() || err.message)),
  );
}
