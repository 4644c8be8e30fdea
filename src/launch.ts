#!/usr/bin/env node
/**
 * The command's entry point: runs the bundled CLI (main.cjs) from V8's code
 * cache: `--version` took 213 ms without it, 133 ms with it (Node 20 has no
 * module.enableCompileCache). The cache is written when a command first exits
 * with success, so it also holds what that command compiled on the way (one
 * per command: a build and `verify` run different code). V8 refuses a cache of
 * another V8 or other flags; the file name ties it to the bundle's bytes.
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
import { STARTUP_CACHE, envCacheDir } from "./env.js";

const KEPT = 40;
const digest = (data: Buffer) => createHash("sha256").update(data).digest();
const bundle = fileURLToPath(new URL("main.cjs", import.meta.url));
const bytes = readFileSync(bundle);
const key = digest(bytes).toString("hex").slice(0, 16);

/** --cache-dir as the command will read it, so the cache goes where the user keeps the tool's caches. */
function cacheDir(argv: string[]): string {
  const i = argv.findIndex((a) => a === "--cache-dir" || a.startsWith("--cache-dir="));
  const given = i < 0 ? undefined : argv[i]!.includes("=") ? argv[i]!.slice("--cache-dir=".length) : argv[i + 1];
  return path.resolve(given || envCacheDir());
}

// One cache per command; --version and --help share one.
const command = /^[a-z][a-z-]*$/.test(process.argv[2] ?? "") ? process.argv[2] : "-";
const dir = path.join(cacheDir(process.argv.slice(2)), STARTUP_CACHE);
const file = path.join(dir, `${key}-${command}-v8-${process.versions.v8}-${process.arch}`);


/**
 * The cache runs as code: only a file of this user's that no one else may write is taken (a
 * --cache-dir shared with others must not let them run code as this user), and only whole: V8
 * checks its version and flags but not the bytes (a damaged cache aborted Node), so the file
 * starts with the sha256 of the rest.
 */
function ownCache(target: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(target, "r");
  } catch {
    return undefined; // this command's first run: compiled as usual, and cached as it exits
  }
  try {
    const st = fstatSync(fd);
    if (st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return undefined;
    const contents = readFileSync(fd);
    const data = contents.subarray(32);
    return digest(data).equals(contents.subarray(0, 32)) ? data : undefined;
  } catch {
    return undefined; // unreadable: compiled as usual
  } finally {
    closeSync(fd);
  }
}

const cachedData = ownCache(file);
// The CommonJS wrapper on the bundle's first line keeps its line numbers in stack traces.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${bytes.toString("utf8")}\n})`, { filename: bundle, cachedData });
// Written after a run that succeeded: a usage error or an unknown command compiled little worth keeping;
// and never by `cache prune`, which has just removed the caches and must not leave its own behind.
const prunes = command === "cache" && process.argv.slice(3).includes("prune");
if ((!cachedData || script.cachedDataRejected) && !prunes) process.once("exit", (code) => code === 0 && save(file, script));
script.runInThisContext()({}, createRequire(bundle), { exports: {} }, bundle, path.dirname(bundle));

function save(target: string, compiled: Script): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Bounded: beyond the newest KEPT files (every command of two or three installs), the oldest go.
    const aged = readdirSync(dir).map((name) => ({ name, at: statSync(path.join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }));
    for (const { name } of aged.sort((a, b) => b.at - a.at).slice(KEPT - 1)) rmSync(path.join(dir, name), { force: true });
    const temp = `${target}.${process.pid}.tmp`;
    const data = compiled.createCachedData();
    writeFileSync(temp, Buffer.concat([digest(data), data]), { mode: 0o600 });
    renameSync(temp, target);
  } catch {
    // A cache directory that takes no writes costs only the compile, next time too.
  }
}
