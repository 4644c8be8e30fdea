import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));

/** The CLI tests run the real, bundled CLI: build it once before they start. */
export default function setup(): void {
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: ["ignore", 2, 2] });
}
