import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { replaceAtomically } from "../fs/atomic.js";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { simpleGit, type SimpleGit } from "simple-git";
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

// The user's own git environment (credential helpers, GIT_SSH_COMMAND for internal servers) applies as it is.
const git = (baseDir: string | undefined, signal?: AbortSignal): SimpleGit => simpleGit({ baseDir, abort: signal });

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
  const out = await git(undefined, signal).raw(["ls-remote", url, `refs/tags/${tag}`, `refs/tags/${tag}^{}`]);
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
      await git(undefined, req.signal).clone(url, tmp, ["--bare", "--depth=1", "--single-branch", `--branch=${req.tag}`, "--no-tags"]);
    } catch (err) {
      if (req.signal?.aborted) throw err;
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

function firstLine(err: unknown): string {
  return (
    errorMessage(err)
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith("Cloning into")) ?? "git failed"
  );
}
