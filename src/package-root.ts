import { fileURLToPath } from "node:url";

/**
 * The installed package: package.json, recipes/, containers/ and lib/. This
 * module is one level below it both as src/package-root.ts (tests) and inside
 * the single-file lib/main.cjs (the build bundles every module into it).
 */
export const PACKAGE_ROOT = fileURLToPath(new URL("../", import.meta.url));
