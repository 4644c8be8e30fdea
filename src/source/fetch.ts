import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { replaceAtomically } from "../fs/atomic.js";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { GitPluginError, simpleGit, type SimpleGit } from "simple-git";
import { UserError, errorMessage } from "../errors.js";

export interface SourceRequest {
  component: string;
  tag: string;
  /** URL or local path of the repository (the recipe's upstream, or --source). */
  source: string;
  pinnedCommit: string | undefined;
  allowUnpinned: boolean;
  /** Whether an unpinned tag deserves the loud warning (the component's recipes pin every tag). */
  requirePins: boolean;
  cacheDir: string;
  signal?: AbortSignal;
  /** git's own progress while cloning, as one line ("receiving 42%"). */
  onProgress?: (line: string) => void;
}

export interface SourceResult {
  /** The cached repository: a shallow bare clone (git's objects only, no working tree). */
  dir: string;
  /** The source as the user gave it, and as git was asked for it. */
  source: string;
  url: string;
  commit: string;
  /** True when the checked-out commit equals the recipe's pin. */
  pinned: boolean;
  cached: boolean;
  warnings: string[];
}

/** A local path is cloned through file:// so that --depth applies (git ignores it for plain paths). */
export function gitUrl(source: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^[^/]+@[^/]+:/.test(source)) return source;
  const abs = path.resolve(source);
  if (!existsSync(abs)) throw new UserError(`--source ${source}: no such directory, and not a URL`, 2);
  return pathToFileURL(abs).href;
}

/**
 * A source that sends nothing for this long is stalled (a mirror that accepts and never answers, a
 * proxy holding the connection): git waits for ever, so it is stopped and the user told. A clone
 * that is slow but moving says so on standard error (git's --progress) and goes on.
 */
export const SOURCE_IDLE_MS = 60_000;

// The user's own git environment (credential helpers, GIT_SSH_COMMAND for internal servers) applies as it is.
function git(baseDir: string | undefined, signal?: AbortSignal, onProgress?: (line: string) => void): SimpleGit {
  let last = "";
  return simpleGit({
    baseDir,
    abort: signal,
    // Over http(s) curl ends a stalled transfer itself, and with it git's remote helper, which stopping
    // git would leave behind waiting on its socket; the block timeout is the backstop for git:// and ssh.
    config: ["http.lowSpeedLimit=1", `http.lowSpeedTime=${SOURCE_IDLE_MS / 1000}`],
    timeout: { block: SOURCE_IDLE_MS + 5_000 },
    // --progress also keeps a healthy clone talking to the timeout above; each step of it is shown once.
    progress: ({ stage, progress }) => {
      const line = `${stage} ${progress}%`;
      if (line !== last) onProgress?.((last = line));
    },
  });
}

export class SourceStalledError extends UserError {
  constructor(source: string, doing: string) {
    super(`${source} sent nothing for ${SOURCE_IDLE_MS / 1000} s while ${doing}: check the network path to it (proxy, VPN, firewall) or pass --source with a reachable mirror, then try again`);
  }
}

/** git stopped by the timeout above, or curl's own low-speed limit. */
const stalled = (err: unknown) => (err instanceof GitPluginError && err.plugin === "timeout") || /Operation too slow/.test(errorMessage(err));

/**
 * In-tree export-subst and export-ignore would make `git archive` (source/pack.ts) differ from a
 * checkout of the tag: switched off in each clone, once, when it is made.
 */
const AS_CHECKED_OUT = "* -export-subst -export-ignore\n";
const ATTRIBUTES = "info/attributes";

/** The commit a cached bare clone of ours holds; undefined for anything else there (a checkout an older version left). */
async function headCommit(dir: string): Promise<string | undefined> {
  if (!existsSync(path.join(dir, ATTRIBUTES))) return undefined;
  try {
    const [bare, head] = (await git(dir).revparse(["--is-bare-repository", "HEAD"])).trim().split("\n");
    return bare === "true" ? head : undefined;
  } catch {
    return undefined;
  }
}

/** The commit a tag names at the source (peeled for annotated tags), or undefined when the tag does not exist. */
export async function remoteTagCommit(url: string, tag: string, signal?: AbortSignal): Promise<string | undefined> {
  const out = await git(undefined, signal)
    .raw(["ls-remote", url, `refs/tags/${tag}`, `refs/tags/${tag}^{}`])
    .catch((err: unknown) => Promise.reject(stalled(err) ? new SourceStalledError(url, "listing its tags") : err));
  const lines = out.trim().split("\n").filter(Boolean).map((l) => l.split(/\s+/));
  return (lines.find(([, ref]) => ref!.endsWith("^{}")) ?? lines[0])?.[0];
}

/**
 * Brings the tag's source into the cache (shallow, exactly that tag, no working
 * tree: the files are unpacked once, in the build container), or reuses the
 * cached clone when it is at the commit the tag must have.
 */
export async function fetchSource(req: SourceRequest): Promise<SourceResult> {
  const url = gitUrl(req.source);
  const key = createHash("sha256").update(url).digest("hex").slice(0, 12);
  const dir = path.join(req.cacheDir, "sources", `${req.component}-${key}`, req.tag);
  const warnings: string[] = [];

  // A cached clone is reused when it is at the pinned commit, or (unpinned)
  // at the commit the source's tag names now, so a moved tag is never served stale.
  const cachedCommit = await headCommit(dir);
  let cached = cachedCommit !== undefined && cachedCommit === req.pinnedCommit;
  if (!cached && cachedCommit !== undefined) {
    let remote: string | undefined;
    try {
      remote = await remoteTagCommit(url, req.tag, req.signal);
    } catch (err) {
      if (err instanceof SourceStalledError) throw err;
      throw new UserError(`cannot read tags of ${req.source}: ${firstLine(err)}`);
    }
    if (!remote) throw new UserError(`tag ${req.tag} not found at ${req.source}: check the version and --source`);
    cached = cachedCommit === remote;
  }
  if (!cached) await clone(url, req, dir);

  const commit = (cached ? cachedCommit : await headCommit(dir)) ?? "";
  const pinned = req.pinnedCommit !== undefined && commit === req.pinnedCommit;
  if (req.pinnedCommit && !pinned) {
    const what = `${req.source} serves ${req.component} ${req.tag} at commit ${commit}, but the recipe pins ${req.pinnedCommit}`;
    if (!req.allowUnpinned) {
      throw new UserError(`${what}: the tag was moved or the mirror serves other code; check the source, or pass --allow-unpinned to build it anyway`);
    }
    warnings.push(`UNPINNED BUILD: ${what}`);
  } else if (!req.pinnedCommit && req.requirePins) {
    warnings.push(`UNPINNED BUILD: ${req.component} ${req.tag} has no pinned commit; built ${commit} as served by ${req.source}`);
  }
  return { dir, source: req.source, url, commit, pinned, cached, warnings };
}

async function clone(url: string, req: SourceRequest, dir: string): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  await replaceAtomically(dir, async (tmp) => {
    try {
      await git(undefined, req.signal, req.onProgress).clone(url, tmp, ["--bare", "--depth=1", "--single-branch", `--branch=${req.tag}`, "--no-tags"]);
    } catch (err) {
      if (req.signal?.aborted) throw err;
      if (stalled(err)) throw new SourceStalledError(req.source, `cloning ${req.component} ${req.tag}`);
      const msg = errorMessage(err);
      if (/not found in upstream|Could not find remote branch/i.test(msg)) {
        throw new UserError(`tag ${req.tag} not found at ${req.source}: check the version and --source`);
      }
      throw new UserError(`cannot clone ${req.component} ${req.tag} from ${req.source}: ${firstLine(err)}`);
    }
    await mkdir(path.join(tmp, path.dirname(ATTRIBUTES)), { recursive: true });
    await writeFile(path.join(tmp, ATTRIBUTES), AS_CHECKED_OUT);
    // A stale clone (at a moved tag, or an older version's checkout) gives way to the fresh one.
    await rm(dir, { recursive: true, force: true });
  });
}

/** git's own reason: its `fatal:` line when there is one (progress lines may come first), else its first line. */
function firstLine(err: unknown): string {
  const lines = errorMessage(err)
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("Cloning into"));
  return lines.find((l) => /^(fatal|error):/.test(l)) ?? lines[0] ?? "git failed";
}
