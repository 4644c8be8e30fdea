import { createHash, type Hash } from "node:crypto";
import { mkdir, open, rename, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Dispatcher, Response as UndiciResponse } from "undici";
import { UserError, errorMessage } from "../errors.js";
import { tempBeside, writeFileAtomically } from "../fs/atomic.js";
import { parseSums, sumLine } from "../release/checksums.js";
import type { ReleaseFiles } from "./release-urls.js";

export interface VerifiedDownloadRequest {
  release: ReleaseFiles;
  outDir: string;
  signal?: AbortSignal;
  /** Bytes of the binary received so far; total is undefined when the server does not say. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** A transient failure that is about to be retried. */
  onRetry?: (message: string) => void;
}

export interface VerifiedDownload {
  path: string;
  sha256: string;
  url: string;
  /** Requests the binary took: 1 when nothing had to be retried. */
  attempts: number;
}

const MAX_ATTEMPTS = 4;
const BACKOFF_MS = 200;
/** A server that sends nothing for this long is treated as a dropped connection. */
const IDLE_TIMEOUT_MS = 30_000;

/** A failure of the network or the server, not of the request: worth another attempt. */
class TransientError extends Error {}

const label = (r: ReleaseFiles) => `${r.component} ${r.version}`;

/**
 * Downloads a release's binary into outDir and keeps it only if its sha256 is
 * the one the release publishes. The binary grows in a dot-file beside its
 * final name and is renamed into place once verified, so a reader never sees
 * an unverified or partial binary, and a failure leaves nothing behind.
 */
export async function fetchVerified(req: VerifiedDownloadRequest): Promise<VerifiedDownload> {
  const { release } = req;
  const expected = await publishedChecksums(req);
  await mkdir(req.outDir, { recursive: true });
  const part = await PartFile.create(req.outDir, release.asset);
  try {
    const { attempts } = await withRetries(req, release.assetUrl, () => downloadAttempt(req, part));
    const sha256 = part.hash.digest("hex");
    if (sha256 !== expected.sha256) {
      throw new UserError(
        `${label(release)}: sha256 mismatch for ${release.assetUrl}: expected ${expected.sha256}, got ${sha256}; the download was deleted`,
      );
    }
    const file = path.join(req.outDir, release.asset);
    await part.keepAs(file);
    await writeFileAtomically(`${file}.sha256`, sumLine(sha256, release.asset));
    await writeFileAtomically(`${file}.json`, expected.manifest);
    return { path: file, sha256, url: release.assetUrl, attempts };
  } finally {
    await part.discard();
  }
}

/** The sha256 the release publishes for its binary, which its checksum file and its manifest must agree on. */
async function publishedChecksums(req: VerifiedDownloadRequest): Promise<{ sha256: string; manifest: string }> {
  const { release } = req;
  const listed = await listedSha256(req);
  const manifest = await fetchText(req, release.manifestUrl);
  if (manifest === null) throw notPublished(release, release.manifestUrl);
  const described = manifestSha256(release, manifest);
  if (described !== listed.sha256) {
    throw new UserError(
      `${label(release)}: ${listed.url} lists sha256 ${listed.sha256} but ${release.manifestUrl} says ${described}; refusing a release whose checksums disagree`,
    );
  }
  return { sha256: listed.sha256, manifest };
}

/** From `<asset>.sha256`, or from the release's SHA256SUMS when the former is missing. */
async function listedSha256(req: VerifiedDownloadRequest): Promise<{ sha256: string; url: string }> {
  const { release } = req;
  for (const url of [release.checksumUrl, release.sumsUrl]) {
    const text = await fetchText(req, url);
    if (text === null) continue;
    const sha256 = parseSums(text).get(release.asset);
    if (!sha256) throw new UserError(`${label(release)}: ${url} lists no sha256 for ${release.asset}`);
    return { sha256, url };
  }
  throw notPublished(release, release.checksumUrl);
}

function manifestSha256(release: ReleaseFiles, text: string): string {
  let sha256: unknown;
  try {
    sha256 = JSON.parse(text)?.binary?.sha256;
  } catch {
    sha256 = undefined;
  }
  if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new UserError(`${label(release)}: ${release.manifestUrl} is not a build manifest (no binary.sha256)`);
  }
  return sha256;
}

function notPublished(release: ReleaseFiles, url: string): UserError {
  return new UserError(
    `${label(release)}: ${url} was not found (HTTP 404): the release ${release.tag} may not be published, or --repo/--base-url points elsewhere`,
  );
}

/** A small release file's text, or null when the release has no such file. */
async function fetchText(req: VerifiedDownloadRequest, url: string): Promise<string | null> {
  const { value } = await withRetries(req, url, () =>
    attempt(url, {}, req.signal, async (res) => {
      if (res.status === 404) return null;
      checkStatus(req.release, url, res);
      return res.text();
    }),
  );
  return value;
}

/**
 * One request for the binary. After a dropped connection the partial file is
 * kept if the server said it serves byte ranges, and the next attempt asks for
 * the rest; a server that answers with the whole file again restarts it.
 */
async function downloadAttempt(req: VerifiedDownloadRequest, part: PartFile): Promise<void> {
  const { release } = req;
  const resuming = part.received > 0 && part.resumable;
  if (!resuming) await part.restart();
  const headers: Record<string, string> = resuming ? { range: `bytes=${part.received}-` } : {};
  await attempt(release.assetUrl, headers, req.signal, async (res, alive) => {
    if (res.status === 404) throw notPublished(release, release.assetUrl);
    checkStatus(release, release.assetUrl, res);
    if (res.status === 206 && !startsAt(res, part.received)) {
      part.resumable = false;
      throw new TransientError(`the server resumed at another offset than ${part.received}`);
    }
    if (res.status !== 206) await part.restart();
    part.resumable = res.status === 206 || res.headers.get("accept-ranges")?.trim().toLowerCase() === "bytes";
    const length = Number(res.headers.get("content-length") ?? NaN);
    const total = Number.isFinite(length) ? part.received + length : undefined;
    for await (const chunk of res.body ?? []) {
      await part.append(chunk);
      alive();
      req.onProgress?.(part.received, total);
    }
  });
}

const startsAt = (res: UndiciResponse, offset: number) => res.headers.get("content-range")?.match(/^bytes (\d+)-/)?.[1] === String(offset);

/** Server errors and throttling pass; other refusals are final. 404 is for the caller to word. */
function checkStatus(release: ReleaseFiles, url: string, res: UndiciResponse): void {
  if (res.ok) return;
  const status = `HTTP ${res.status} ${res.statusText}`.trim();
  if (res.status >= 500 || res.status === 408 || res.status === 429) throw new TransientError(status);
  throw new UserError(`${label(release)}: ${url} answered ${status}`);
}

const proxies = new Map<string, Dispatcher>();
const envVar = (name: string) => process.env[name.toLowerCase()] || process.env[name] || "";

/** NO_PROXY as curl reads it: `*`, or host names and domains (a leading dot optional), with an optional port. */
function bypassesProxy(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return envVar("NO_PROXY")
    .split(/[,\s]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry === "*") return true;
      const [name, entryPort] = entry.toLowerCase().replace(/^\*?\./, "").split(":");
      return (!entryPort || entryPort === port) && (host === name || host.endsWith(`.${name}`));
    });
}

/**
 * The proxy for a URL from HTTPS_PROXY / HTTP_PROXY and NO_PROXY (either case),
 * as curl and apt read them: how enterprise and mainland-China build machines
 * reach the internet. undici's ProxyAgent, one per proxy, so connections are reused.
 */
async function proxyFor(target: string): Promise<Dispatcher | undefined> {
  const url = new URL(target);
  const proxy = envVar(url.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY");
  if (!proxy || bypassesProxy(url)) return undefined;
  let agent = proxies.get(proxy);
  if (!agent) proxies.set(proxy, (agent = new (await undici()).ProxyAgent(proxy)));
  return agent;
}

/** undici, loaded on the first request, not at start-up: every other command (a build first of all) would pay for it. */
const undici = () => import("undici");

/**
 * One HTTP request whose response `use` reads. It fails as transient when the
 * network fails or the server goes quiet for IDLE_TIMEOUT_MS (`use` calls
 * `alive` on every chunk); an interrupt from `signal` is passed on unchanged.
 */
async function attempt<T>(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  use: (res: UndiciResponse, alive: () => void) => Promise<T>,
): Promise<T> {
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new TransientError(`no data for ${IDLE_TIMEOUT_MS / 1000}s`)), IDLE_TIMEOUT_MS);
  };
  alive();
  try {
    const { fetch } = await undici();
    const res = await fetch(url, { headers, signal: signal ? AbortSignal.any([signal, idle.signal]) : idle.signal, dispatcher: await proxyFor(url) });
    // An unread body (404, 5xx) would hold its connection until garbage collection.
    return await use(res, alive).finally(() => (res.bodyUsed ? undefined : res.body?.cancel().catch(() => undefined)));
  } catch (err) {
    if (signal?.aborted) throw err;
    if (idle.signal.aborted) throw idle.signal.reason;
    // fetch reports refused, reset and cut-off connections as TypeError, with the socket error as its cause.
    if (err instanceof TypeError) throw new TransientError(networkReason(err));
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function networkReason(err: TypeError): string {
  const cause = err.cause === undefined ? "" : ` (${errorMessage(err.cause)})`;
  return `${err.message}${cause}`;
}

async function withRetries<T>(req: VerifiedDownloadRequest, url: string, run: () => Promise<T>): Promise<{ value: T; attempts: number }> {
  for (let n = 1; ; n++) {
    try {
      return { value: await run(), attempts: n };
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      const failure = `${label(req.release)}: ${url}: ${err.message}`;
      if (n === MAX_ATTEMPTS) throw new UserError(`${failure}; gave up after ${n} attempts`);
      req.onRetry?.(`${failure}; retrying (attempt ${n + 1} of ${MAX_ATTEMPTS})`);
      await sleep(BACKOFF_MS * n, undefined, { signal: req.signal });
    }
  }
}

/** The temporary file a download grows in, with the hash of exactly the bytes it holds. */
class PartFile {
  hash: Hash = createHash("sha256");
  received = 0;
  /** The server serves byte ranges, so after a cut the rest can be asked for. */
  resumable = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(dir: string, asset: string): Promise<PartFile> {
    const file = tempBeside(path.join(dir, asset), "part");
    // Append mode: every write lands at the end, also after restart() truncates.
    return new PartFile(file, await open(file, "ax", 0o600));
  }

  async append(chunk: Uint8Array): Promise<void> {
    // Written before hashed: after a failed write the hash still matches the file.
    await this.handle.appendFile(chunk).catch((err: unknown) => {
      throw new UserError(`cannot write ${this.path}: ${errorMessage(err)}`);
    });
    this.hash.update(chunk);
    this.received += chunk.length;
  }

  async restart(): Promise<void> {
    await this.handle.truncate(0);
    this.hash = createHash("sha256");
    this.received = 0;
  }

  async keepAs(file: string): Promise<void> {
    await this.handle.chmod(0o755);
    await this.handle.close();
    await rename(this.path, file);
  }

  /** Removes the file unless keepAs moved it; safe to call after keepAs. */
  async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }
}
