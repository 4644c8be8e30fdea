import { readFileSync } from "node:fs";

/** The tool's own version, from the package.json it ships with. */
export const TOOL_VERSION: string = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
).version;
