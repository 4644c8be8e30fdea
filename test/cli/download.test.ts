import { copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cli, listDir, removeDir, run, tempDir } from "../helpers.js";

/**
 * A release server on 127.0.0.1 laid out as GitHub's: /OWNER/REPO/releases/download/<tag>/<file>,
 * binaries answered with a redirect to a storage path, as GitHub does, which serves byte ranges.
 */
let work: string;
let releases: string;
let httpServer: http.Server;
let base: string;
let binary: Buffer;
let binarySha: string;

/** How the storage path treats binaries in the current test; GitHub's serves ranges and (normally) does not drop. */
let storage = { ranges: true, drops: 0 };
let requests: { path: string; range: string | undefined }[] = [];

const REPO = "acme/bins";
const asset = (component: string, tag: string, arch = "amd64") => `${component}-${tag}-nokmem-linux-${arch}`;
const binaryRequests = () => requests.filter((r) => r.path.startsWith("/storage/"));

beforeAll(async () => {
  work = await tempDir("download-e2e");
  releases = path.join(work, "releases");
  binary = await readFile("/bin/true");
  binarySha = await sha256Of("/bin/true");
  httpServer = http.createServer(serve);
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/${REPO}/releases/download`;
});

afterAll(async () => {
  httpServer.closeAllConnections();
  await new Promise((resolve) => httpServer.close(resolve));
  await removeDir(work);
});

beforeEach(() => {
  storage = { ranges: true, drops: 0 };
  requests = [];
});

async function sha256Of(file: string): Promise<string> {
  const { stdout } = await run("sha256sum", [file]);
  return stdout.split(" ")[0]!;
}

interface ReleaseOptions {
  /** Bytes served instead of the binary the checksums describe. */
  served?: Buffer;
  /** The sha256 the manifest claims, when it should disagree with the .sha256 file. */
  manifestSha?: string;
  /** Publish only SHA256SUMS, no per-asset .sha256. */
  sumsOnly?: boolean;
}

/** Publishes /bin/true as a release the way the release workflow does, with sha256sum's own output. */
async function publishRelease(component: string, tag: string, arch: string, opts: ReleaseOptions = {}): Promise<string> {
  const name = asset(component, tag, arch);
  const dir = path.join(releases, REPO, "releases/download", `${component}-${tag}-nokmem`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await copyFile("/bin/true", path.join(dir, name));
  const manifest = { schemaVersion: 1, component, version: tag, asset: name, arch, binary: { sha256: opts.manifestSha ?? binarySha, size: binary.length } };
  await writeFile(path.join(dir, `${name}.json`), `${JSON.stringify(manifest, null, 2)}\n`);
  const { stdout: line } = await run("sha256sum", [name], { cwd: dir });
  if (!opts.sumsOnly) await writeFile(path.join(dir, `${name}.sha256`), line);
  const { stdout: sums } = await run("sha256sum", [name, `${name}.json`], { cwd: dir });
  await writeFile(path.join(dir, "SHA256SUMS"), sums);
  if (opts.served) await writeFile(path.join(dir, name), opts.served);
  return name;
}

function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  const { pathname } = new URL(req.url ?? "/", "http://127.0.0.1");
  requests.push({ path: pathname, range: req.headers.range });
  const inStorage = pathname.startsWith("/storage/");
  const file = path.join(releases, decodeURIComponent(inStorage ? pathname.slice("/storage".length) : pathname));
  const isBinary = /-nokmem-linux-[a-z0-9]+$/.test(file);
  readFile(file).then(
    (body) => {
      if (isBinary && !inStorage) res.writeHead(302, { location: `/storage${pathname}` }).end();
      else if (isBinary) sendBinary(req, res, body);
      else res.writeHead(200, { "content-length": body.length }).end(body);
    },
    () => res.writeHead(404).end("Not Found"),
  );
}

/** Honours `Range: bytes=N-` only when storage.ranges; while storage.drops > 0, cuts the connection halfway. */
function sendBinary(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const start = storage.ranges ? Number(req.headers.range?.match(/^bytes=(\d+)-$/)?.[1] ?? 0) : 0;
  const rest = body.subarray(start);
  res.writeHead(start ? 206 : 200, {
    "content-length": rest.length,
    ...(storage.ranges && { "accept-ranges": "bytes" }),
    ...(start && { "content-range": `bytes ${start}-${body.length - 1}/${body.length}` }),
  });
  if (storage.drops === 0) return void res.end(rest);
  storage.drops--;
  res.write(rest.subarray(0, Math.floor(rest.length / 2)), () => setTimeout(() => res.destroy(), 50));
}

const download = (args: string[]) => cli(["download", ...args, "--base-url", base]);

describe("nokmem-build download, against a local release server", () => {
  it("downloads, verifies and installs a release binary with its checksum and manifest", async () => {
    const name = await publishRelease("runc", "v1.0.0-rc9", "amd64");
    const out = path.join(work, "good");
    const res = await download(["runc", "1.0.0-rc9", "--out", out, "--json"]);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({
      ok: true,
      component: "runc",
      version: "v1.0.0-rc9",
      asset: name,
      path: path.join(out, name),
      sha256: binarySha,
      url: `${base}/runc-v1.0.0-rc9-nokmem/${name}`,
      attempts: 1,
    });
    expect(res.stderr).toBe("");
    expect(await listDir(out)).toEqual([name, `${name}.json`, `${name}.sha256`]);
    expect((await stat(path.join(out, name))).mode & 0o777).toBe(0o755);
    await run("sha256sum", ["-c", `${name}.sha256`], { cwd: out });
    await run(path.join(out, name)); // it is /bin/true, and runs
    const served = path.join(releases, REPO, "releases/download/runc-v1.0.0-rc9-nokmem");
    expect(await readFile(path.join(out, `${name}.json`), "utf8")).toBe(await readFile(path.join(served, `${name}.json`), "utf8"));
  });

  it("falls back to SHA256SUMS when the release has no .sha256 file", async () => {
    const name = await publishRelease("kubelet", "v1.18.6", "arm64", { sumsOnly: true });
    const out = path.join(work, "sums-only");
    const res = await download(["kubelet", "v1.18.6", "--arch", "arm64", "--out", out]);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(res.stdout).toBe(`${path.join(out, name)}  sha256 ${binarySha}\n`);
    expect(requests.map((r) => path.basename(r.path))).toContain("SHA256SUMS");
    await run("sha256sum", ["-c", `${name}.sha256`], { cwd: out });
  });

  it("refuses a tampered binary and leaves nothing behind", async () => {
    const tampered = Buffer.from(binary);
    tampered[tampered.length - 1] ^= 0xff;
    const name = await publishRelease("runc", "v1.0.0-rc92", "amd64", { served: tampered });
    const out = path.join(work, "tampered");
    const res = await download(["runc", "v1.0.0-rc92", "--out", out]);
    expect(res.code).toBe(1);
    const lines = res.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("runc v1.0.0-rc92");
    expect(lines[0]).toContain(`${base}/runc-v1.0.0-rc92-nokmem/${name}`);
    expect(lines[0]).toContain(`expected ${binarySha}`);
    expect(lines[0]).toMatch(/got [0-9a-f]{64}/);
    expect(res.stdout).toBe("");
    expect(await listDir(out)).toEqual([]);
  });

  it("refuses a release whose checksum file and manifest disagree, before downloading the binary", async () => {
    await publishRelease("runc", "v1.0.0-rc93", "amd64", { manifestSha: "0".repeat(64) });
    const out = path.join(work, "disagree");
    const res = await download(["runc", "v1.0.0-rc93", "--out", out]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^nokmem-build: error: runc v1\.0\.0-rc93: .* refusing a release whose checksums disagree\n$/);
    expect(binaryRequests()).toEqual([]);
    expect(await listDir(out)).toEqual([]);
  });

  it("names the URL and the likely cause when the release is not published", async () => {
    const out = path.join(work, "missing");
    const res = await download(["runc", "v1.0.0-rc10", "--out", out]);
    expect(res.code).toBe(1);
    const name = asset("runc", "v1.0.0-rc10");
    expect(res.stderr).toBe(
      `nokmem-build: error: runc v1.0.0-rc10: ${base}/runc-v1.0.0-rc10-nokmem/${name}.sha256 was not found (HTTP 404): ` +
        "the release runc-v1.0.0-rc10-nokmem may not be published, or --repo/--base-url points elsewhere\n",
    );
    expect(await listDir(out)).toEqual([]);
  });

  it("resumes with a Range request after the connection drops mid-transfer", async () => {
    const name = await publishRelease("runc", "v1.0.0-rc90", "amd64");
    storage = { ranges: true, drops: 2 };
    const out = path.join(work, "resume");
    const res = await download(["runc", "v1.0.0-rc90", "--out", out, "--json"]);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const result = JSON.parse(res.stdout);
    expect(result).toMatchObject({ ok: true, sha256: binarySha, attempts: 3 });
    const ranges = binaryRequests().map((r) => r.range);
    expect(ranges).toHaveLength(3);
    expect(ranges[0]).toBeUndefined();
    const starts = ranges.slice(1).map((r) => Number(r?.match(/^bytes=(\d+)-$/)?.[1]));
    // Each attempt asks for the rest after the bytes already kept.
    expect(starts[0]).toBeGreaterThan(0);
    expect(starts[1]).toBeGreaterThan(starts[0]!);
    expect(starts[1]).toBeLessThan(binary.length);
    expect(await listDir(out)).toEqual([name, `${name}.json`, `${name}.sha256`]);
    await run("sha256sum", ["-c", `${name}.sha256`], { cwd: out });
  });

  it("restarts from zero after a drop when the server does not serve ranges", async () => {
    const name = await publishRelease("runc", "v1.0.0-rc91", "amd64");
    storage = { ranges: false, drops: 1 };
    const out = path.join(work, "restart");
    const res = await download(["runc", "v1.0.0-rc91", "--out", out]);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(res.stderr).toMatch(/^nokmem-build: warning: runc v1\.0\.0-rc91: .*; retrying \(attempt 2 of 4\)\n$/);
    expect(binaryRequests().map((r) => r.range)).toEqual([undefined, undefined]);
    expect(await listDir(out)).toEqual([name, `${name}.json`, `${name}.sha256`]);
    await run("sha256sum", ["-c", `${name}.sha256`], { cwd: out });
  });

  it.each([
    { input: "an unknown component", args: ["containerd", "v1.0.0"], message: /'containerd' is invalid .*runc, kubelet/ },
    { input: "a malformed version", args: ["runc", "1.0"], message: /'1\.0' is not a runc version: expected a release tag such as v1\.0\.0-rc9/ },
    { input: "a version the recipes refuse", args: ["runc", "v1.0.0-rc5"], message: /runc v1\.0\.0-rc5 is not rebuilt: / },
    { input: "an unknown arch", args: ["runc", "v1.0.0-rc9", "--arch", "s390x"], message: /'s390x' is invalid\. Allowed choices are amd64, arm64/ },
    { input: "a malformed --repo", args: ["runc", "v1.0.0-rc9", "--repo", "not a repo"], message: /--repo not a repo: expected a GitHub repository as OWNER\/REPO/ },
  ])("exits 2 on $input without touching the network", async ({ args, message }) => {
    const out = path.join(work, "usage");
    const res = await download([...args, "--out", out]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(message);
    expect(requests).toEqual([]);
    expect(await listDir(out)).toEqual([]);
  });
});

describe("download through a proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY)", () => {
  /** A forward proxy on 127.0.0.1 that tunnels CONNECT and relays absolute-form requests, counting both. */
  async function startProxy(): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
    const seen: string[] = [];
    const proxy = http.createServer((req, res) => {
      seen.push(`GET ${req.url}`);
      const upstream = http.request(req.url!, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    proxy.on("connect", (req, client, head) => {
      seen.push(`CONNECT ${req.url}`);
      const [host, port] = req.url!.split(":");
      const upstream = net.connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    return {
      url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      seen,
      close: () => new Promise((resolve) => proxy.close(() => resolve())),
    };
  }

  it("sends every request through HTTP_PROXY, and none when NO_PROXY names the host", async () => {
    const name = await publishRelease("runc", "v1.0.0-rc9", "amd64");
    const proxy = await startProxy();
    try {
      const via = path.join(work, "via-proxy");
      const res = await cli(["download", "runc", "v1.0.0-rc9", "--out", via, "--base-url", base], { HTTP_PROXY: proxy.url, NO_PROXY: "" });
      expect(res.code, res.stderr).toBe(0);
      expect(await listDir(via)).toContain(name);
      const port = new URL(base).port;
      // Through the proxy: tunnels (reused across the release's files) or relayed requests, to the release server.
      expect(proxy.seen.filter((r) => r.includes(`127.0.0.1:${port}`)).length).toBeGreaterThan(0);

      proxy.seen.length = 0;
      const direct = await cli(["download", "runc", "v1.0.0-rc9", "--out", path.join(work, "no-proxy"), "--base-url", base], { HTTP_PROXY: proxy.url, NO_PROXY: "localhost,127.0.0.1" });
      expect(direct.code, direct.stderr).toBe(0);
      expect(proxy.seen).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
