/**
 * The bad-input catalogue (issue #13): every command, fed what an operator
 * mistypes or misunderstands. Each row is refused the same careful way: the
 * documented exit code, one `error:` line naming the input and what is
 * accepted, no stack trace, nothing on stdout (or, with --json, exactly one
 * JSON object with ok:false, error and exitCode), and nothing changed: the
 * watched tree (a pre-existing --out with a file in it, the node root, the
 * regular file, the read-only mount) hashes the same, no request reaches the
 * Docker engine (so no container is made), no nokmem-build-* temp entry is left.
 */
import { createHash } from "node:crypto";
import { copyFile, lstat, mkdir, readFile, readdir, readlink, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeTree } from "../fixtures/node-trees.js";
import { cli, removeDir, run, tempDir, toolTempEntries, type CliResult } from "../helpers.js";

/**
 * Paths made in beforeAll; rows name them as `@key` arguments, read when the row runs.
 * watched: everything a refusal must leave alone; out: a pre-existing output directory with a file in it;
 * cache: a --cache-dir that does not exist yet (and must not be made); file: a regular file where a
 * directory belongs; ro: a read-only tmpfs mount; node: a node tree with a stand-in runc in /usr/bin;
 * empty: a directory with no /proc or /sys; good: a static Go binary without runc code (verify passes it).
 */
const P: Record<string, string> = {};
const expand = (args: string[]) => args.map((a) => (a.startsWith("@") ? P[a.slice(1)] ?? a : a));

interface Row {
  name: string;
  /** `@key` stands for the path P[key]. */
  args: string[];
  code: 1 | 2;
  /** The one error line: it names the bad input and what is accepted. */
  error: RegExp;
  /** Commander's own `error:` line (parser errors), which may add a `(Did you mean …?)` line. */
  parser?: true;
  /** The command takes no --json. */
  noJson?: true;
  env?: NodeJS.ProcessEnv;
  /** A command that reports what it could before failing (verify, build): its report on stdout, in text and JSON. */
  report?: { text: RegExp; json: Record<string, unknown> };
}

const STACK = /^\s+at /m;
/** Lines the plain task-list renderer prints while `build` runs its targets. */
const PROGRESS = /^[❯✖✔›↓] \[\d\d:\d\d:\d\d\] /;

async function treeState(dir: string, rel = ""): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  for (const name of (await readdir(path.join(dir, rel))).sort()) {
    const relName = path.join(rel, name);
    const full = path.join(dir, relName);
    const st = await lstat(full);
    if (st.isDirectory()) Object.assign(state, { [relName]: `dir ${st.mode.toString(8)}` }, await treeState(dir, relName));
    else if (st.isFile()) state[relName] = `file ${st.mode.toString(8)} ${createHash("sha256").update(await readFile(full)).digest("hex")}`;
    else if (st.isSymbolicLink()) state[relName] = `link ${await readlink(full)}`;
    else state[relName] = `other ${st.mode.toString(8)}`; // the FIFO: never opened here
  }
  return state;
}

/**
 * A pass-through to the real engine that notes each request line, given to the
 * CLI as DOCKER_HOST: every input here is refused before engine work, so a row
 * must make no request at all (and so can create no container). The engine is
 * shared, so counting labelled containers before and after would also count
 * other runs'.
 */
async function recordingEngine(socket: string): Promise<{ requests: string[]; close: () => Promise<void> }> {
  const upstream = process.env.DOCKER_HOST?.startsWith("unix://") ? process.env.DOCKER_HOST.slice(7) : "/var/run/docker.sock";
  const requests: string[] = [];
  const server = net.createServer((client) => {
    const engine = net.connect(upstream);
    client.on("data", (b: Buffer) => requests.push(...(b.toString("latin1").match(/^(?:GET|HEAD|POST|PUT|DELETE) \S+/gm) ?? [])));
    client.on("error", () => engine.destroy());
    engine.on("error", () => client.destroy());
    client.pipe(engine).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let engine: Awaited<ReturnType<typeof recordingEngine>>;

/** What a refused input must leave exactly as it was (os.tmpdir() is this file's own, see beforeAll). */
const leftovers = async () => ({ tree: await treeState(P.watched!), temps: await toolTempEntries() });

/** Output lines, without the task list's progress lines where a command reports targets (`build` prints them on both streams). */
const withoutProgress = (row: Row, output: string) => output.split("\n").filter((l) => l && !(row.report && PROGRESS.test(l)));

const shown = (r: CliResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** Runs the row as text and, where the command takes it, with --json, and holds both to the rules above. */
async function expectRefused(row: Row): Promise<void> {
  const before = await leftovers();

  const args = expand(row.args);
  const env = { ...(row.env && Object.fromEntries(Object.entries(row.env).map(([k, v]) => [k, expand([v!])[0]]))), DOCKER_HOST: `unix://${P.engine}` };
  engine.requests.length = 0;
  const text = await cli(args, env);
  expect(text.code, shown(text)).toBe(row.code);
  expect(text.stderr, shown(text)).not.toMatch(STACK);
  const lines = withoutProgress(row, text.stderr).filter((l) => !(row.parser && /^\(Did you mean .+\?\)$/.test(l)));
  expect(lines, shown(text)).toHaveLength(1);
  expect(lines[0]).toMatch(row.parser ? /^error: / : /^nokmem-build: error: /);
  expect(lines[0]).toMatch(row.error);
  if (row.report) expect(withoutProgress(row, text.stdout).join("\n"), shown(text)).toMatch(row.report.text);
  else expect(text.stdout, shown(text)).toBe("");

  if (!row.noJson) {
    const json = await cli([...args, "--json"], env);
    expect(json.code, shown(json)).toBe(row.code);
    expect(json.stderr, shown(json)).not.toMatch(STACK);
    const result = JSON.parse(json.stdout); // exactly one JSON value, nothing around it
    expect(result, shown(json)).toMatchObject({ ok: false, exitCode: row.code, error: expect.stringMatching(row.error) });
    if (row.report) expect(result).toMatchObject(row.report.json);
  }

  const after = await leftovers();
  expect(after.tree, "the watched tree (--out, --root, …) changed").toEqual(before.tree);
  expect(engine.requests, "the Docker engine was asked").toEqual([]);
  expect(after.temps, "a nokmem-build-* temp entry was left").toEqual(before.temps);
}

/** A build command with the watched --out and --cache-dir: a refusal must leave both alone. */
const building = (...args: string[]) => [...args, "--out", "@out", "--cache-dir", "@cache"];
/** install against the node tree, with --dry-run as a second guard. */
const installing = (...args: string[]) => ["install", ...args, "--root", "@node", "--dry-run"];
/** download from a closed local port (no request leaves this machine), into the watched --out. */
const downloading = (...args: string[]) => ["download", ...args, "--base-url", "http://127.0.0.1:2/releases", "--out", "@out"];

const versions: Row[] = [
  { name: "runc v1.0.0-rc2: before the nokmem tag", args: building("runc", "v1.0.0-rc2"), code: 2, error: /runc v1\.0\.0-rc2 is not rebuilt: runc before v1\.0\.0-rc6 has no nokmem build tag.*build v1\.0\.0-rc9 instead/ },
  { name: "runc v1.0.0-rc94: kmem accounting removed upstream", args: building("runc", "v1.0.0-rc94"), code: 2, error: /runc v1\.0\.0-rc94 is not rebuilt: upstream removed kernel-memory accounting.*use it as it is/ },
  { name: "runc 1.0: not a release tag", args: building("runc", "1.0"), code: 2, error: /'1\.0' is not a runc version: expected a release tag such as v1\.0\.0-rc9/ },
  { name: "runc v1.0.0-RC9: upper case", args: building("runc", "v1.0.0-RC9"), code: 2, error: /'v1\.0\.0-RC9' is not a runc version: release tags are lower case, such as v1\.0\.0-rc9/ },
  { name: "runc '': an empty version", args: building("runc", ""), code: 2, error: /'' is not a runc version: expected a release tag such as v1\.0\.0-rc9/ },
  { name: "runc v2: no minor or patch", args: building("runc", "v2"), code: 2, error: /'v2' is not a runc version: expected a release tag such as v1\.0\.0-rc9/ },
  { name: "kubelet 'v1.18.6; rm -rf /': shell in a version", args: building("kubelet", "v1.18.6; rm -rf /"), code: 2, error: /'v1\.18\.6; rm -rf \/' is not a kubelet version: expected a release tag such as v1\.18\.6/ },
  { name: "kubelet without a version", args: building("kubelet"), code: 2, error: /kubelet: a VERSION is required, such as v1\.18\.6/ },
  { name: "kubelet v1.7.0: nothing to disable", args: building("kubelet", "v1.7.0"), code: 2, error: /kubelet v1\.7\.0 is not rebuilt: kubelet before v1\.8 .*nothing to disable/ },
  { name: "kubelet v1.21.2: the stock kubelet needs no rebuild", args: building("kubelet", "v1.21.2"), code: 2, error: /kubelet v1\.21\.2 is not rebuilt: .*needs no rebuild/ },
  { name: "runc with two versions", args: building("runc", "v1.0.0-rc9", "v1.0.0-rc10"), code: 2, parser: true, error: /too many arguments for 'runc'\. Expected 1 argument but got 2/ },
];

const commands: Row[] = [
  { name: "an unknown command", args: ["frobnicate"], code: 2, parser: true, error: /unknown command 'frobnicate'/ },
  { name: "an unknown component", args: ["containerd", "v1.6.0"], code: 2, parser: true, error: /unknown command 'containerd'/ },
  { name: "an unknown top-level flag", args: ["--frob"], code: 2, parser: true, error: /unknown option '--frob'/ },
  { name: "toolchain with an unknown subcommand", args: ["toolchain", "frob"], code: 2, parser: true, error: /unknown command 'frob'/ },
  { name: "versions with an unknown flag", args: ["versions", "--bogus"], code: 2, parser: true, noJson: true, error: /unknown option '--bogus'/ },
  { name: "versions with an argument", args: ["versions", "runc"], code: 2, parser: true, noJson: true, error: /too many arguments for 'versions'/ },
];

const buildFlags: Row[] = [
  { name: "runc --frob: an unknown flag", args: building("runc", "v1.0.0-rc9", "--frob"), code: 2, parser: true, error: /unknown option '--frob'/ },
  { name: "runc --arch arm64: builds take no --arch", args: building("runc", "v1.0.0-rc9", "--arch", "arm64"), code: 2, parser: true, error: /unknown option '--arch'/ },
  { name: "--memory 1k: below what a build needs", args: building("runc", "v1.0.0-rc9", "--memory", "1k"), code: 2, error: /--memory 1k: expected a size of at least 6m, such as 8g or 512m/ },
  { name: "--memory lots: not a size", args: building("runc", "v1.0.0-rc9", "--memory", "lots"), code: 2, error: /--memory lots: expected a size of at least 6m, such as 8g or 512m/ },
  { name: "--cpus 0", args: building("runc", "v1.0.0-rc9", "--cpus", "0"), code: 2, error: /--cpus 0: expected a positive number such as 2 or 1\.5/ },
  { name: "--cpus -1", args: building("kubelet", "v1.18.6", "--cpus", "-1"), code: 2, error: /--cpus -1: expected a positive number such as 2 or 1\.5/ },
  { name: "--target-glibc 2: not a glibc version", args: building("runc", "v1.0.0-rc9", "--target-glibc", "2"), code: 2, error: /--target-glibc 2: expected a glibc version such as 2\.17/ },
  { name: "--link shared: not a link mode", args: building("kubelet", "v1.18.6", "--link", "shared"), code: 2, parser: true, error: /'--link <mode>' argument 'shared' is invalid\. Allowed choices are static, dynamic/ },
  { name: "--link dynamic for runc", args: building("runc", "v1.0.0-rc9", "--link", "dynamic"), code: 2, error: /--link dynamic: runc v1\.0\.0-rc9 is built static by its Makefile \(make static\); drop --link/ },
  { name: "--suite sid: not a suite", args: building("runc", "v1.0.0-rc9", "--suite", "sid"), code: 2, error: /--suite sid: expected one of bookworm \(Go 1\.19\), bullseye \(Go 1\.15\)/ },
  { name: "--suite bookworm for kubelet v1.18.6: its Go is too new", args: building("kubelet", "v1.18.6", "--suite", "bookworm"), code: 2, error: /--suite bookworm ships Go 1\.19, too new for kubelet v1\.18\.6: .*use --suite bullseye/ },
  { name: "--registry http://x: a scheme", args: building("runc", "v1.0.0-rc9", "--registry", "http://x"), code: 2, error: /--registry http:\/\/x: expected a registry prefix without a scheme, such as registry\.internal:5000\/library/ },
  { name: "NOKMEM_BUILD_REGISTRY=http://x", args: building("runc", "v1.0.0-rc9"), env: { NOKMEM_BUILD_REGISTRY: "http://x" }, code: 2, error: /--registry http:\/\/x: expected a registry prefix without a scheme/ },
  { name: "--debian-mirror ftp:/x", args: building("runc", "v1.0.0-rc9", "--debian-mirror", "ftp:/x"), code: 2, error: /--debian-mirror ftp:\/x: expected the URL of a Debian mirror, such as http:\/\/mirror\.internal\/debian/ },
  { name: "--debian-mirror 'not a url'", args: building("kubelet", "v1.18.6", "--debian-mirror", "not a url"), code: 2, error: /--debian-mirror not a url: expected the URL of a Debian mirror/ },
  { name: "--go-image UPPER/Case:tag", args: building("runc", "v1.0.0-rc9", "--go-image", "UPPER/Case:tag"), code: 2, error: /--go-image UPPER\/Case:tag: .*lower case.*such as golang:1\.19-bookworm/ },
  { name: "--go-image 'a b'", args: building("runc", "v1.0.0-rc9", "--go-image", "a b"), code: 2, error: /--go-image a b: not an image reference.*such as golang:1\.19-bookworm/ },
  { name: "NOKMEM_BUILD_GO_IMAGE='go:1 .19'", args: building("kubelet", "v1.18.6"), env: { NOKMEM_BUILD_GO_IMAGE: "go:1 .19" }, code: 2, error: /--go-image go:1 \.19: not an image reference/ },
  { name: "--source a local path that does not exist", args: building("runc", "v1.0.0-rc9", "--source", "/nonexistent/runc"), code: 2, error: /--source \/nonexistent\/runc: no such directory, and not a URL/ },
  { name: "--out a regular file", args: ["runc", "v1.0.0-rc9", "--out", "@file", "--cache-dir", "@cache"], code: 2, error: /--out \S+regular-file: is not a directory/ },
  { name: "--out under a regular file", args: ["kubelet", "v1.18.6", "--out", "@fileChild", "--cache-dir", "@cache"], code: 2, error: /--out \S+regular-file\/dist: \S+regular-file is not a directory/ },
  { name: "--out on a read-only mount", args: ["runc", "v1.0.0-rc9", "--out", "@roChild", "--cache-dir", "@cache"], code: 2, error: /--out \S+read-only\/dist: cannot write in \S+read-only \(EROFS/ },
  { name: "--cache-dir a regular file", args: ["runc", "v1.0.0-rc9", "--out", "@out", "--cache-dir", "@file"], code: 2, error: /--cache-dir \S+regular-file: is not a directory/ },
  { name: "NOKMEM_BUILD_CACHE_DIR a regular file", args: ["runc", "v1.0.0-rc9", "--out", "@out"], env: { NOKMEM_BUILD_CACHE_DIR: "@file" }, code: 2, error: /--cache-dir \S+regular-file: is not a directory/ },
];

const targets: Row[] = [
  { name: "build runc@: no version", args: building("build", "runc@"), code: 2, error: /target 'runc@': expected COMPONENT@VERSION with COMPONENT one of runc, kubelet, such as runc@v1\.0\.0-rc9/ },
  { name: "build @v1: no component", args: building("build", "@v1"), code: 2, error: /target '@v1': expected COMPONENT@VERSION/ },
  { name: "build runc@v1@x: two @", args: building("build", "runc@v1@x"), code: 2, error: /target 'runc@v1@x': expected COMPONENT@VERSION/ },
  { name: "build containerd@v1.6.0", args: building("build", "containerd@v1.6.0"), code: 2, error: /target 'containerd@v1\.6\.0': expected COMPONENT@VERSION with COMPONENT one of runc, kubelet/ },
  { name: "build runc@1.0: a malformed version stops the whole run", args: building("build", "runc@v1.0.0-rc9", "runc@1.0"), code: 2, error: /target 'runc@1\.0': '1\.0' is not a runc version: expected a release tag such as v1\.0\.0-rc9/ },
  { name: "build with targets and --all", args: building("build", "runc@v1.0.0-rc9", "--all"), code: 2, error: /name targets \(COMPONENT@VERSION …\) or --all, not both and not neither/ },
  { name: "build with neither targets nor --all", args: building("build"), code: 2, error: /name targets \(COMPONENT@VERSION …\) or --all, not both and not neither/ },
  { name: "build --jobs 0", args: building("build", "runc@v1.0.0-rc9", "--jobs", "0"), code: 2, error: /--jobs 0: expected a whole number from 1 to 16/ },
  { name: "build --jobs 1.5", args: building("build", "runc@v1.0.0-rc9", "--jobs", "1.5"), code: 2, error: /--jobs 1\.5: expected a whole number from 1 to 16/ },
  { name: "build --jobs 17", args: building("build", "runc@v1.0.0-rc9", "--jobs", "17"), code: 2, error: /--jobs 17: expected a whole number from 1 to 16/ },
  { name: "build --jobs two", args: building("build", "runc@v1.0.0-rc9", "--jobs", "two"), code: 2, error: /--jobs two: expected a whole number from 1 to 16/ },
  { name: "build --source twice for every component", args: building("build", "runc@v1.0.0-rc9", "--source", "https://a.example/runc.git", "--source", "https://b.example/runc.git"), code: 2, error: /--source given twice for every component: use --source COMPONENT=VALUE/ },
  { name: "build --go-image runc=UPPER/Case:tag", args: building("build", "runc@v1.0.0-rc9", "--go-image", "runc=UPPER/Case:tag"), code: 2, error: /--go-image UPPER\/Case:tag: .*lower case/ },
  { name: "build --out a regular file", args: ["build", "runc@v1.0.0-rc9", "--out", "@file", "--cache-dir", "@cache"], code: 2, error: /--out \S+regular-file: is not a directory/ },
  { name: "build --out on a read-only mount", args: ["build", "runc@v1.0.0-rc9", "kubelet@v1.18.6", "--out", "@roChild", "--cache-dir", "@cache"], code: 2, error: /--out \S+read-only\/dist: cannot write in \S+read-only \(EROFS/ },
  { name: "build --cache-dir a regular file", args: ["build", "runc@v1.0.0-rc9", "--out", "@out", "--cache-dir", "@file"], code: 2, error: /--cache-dir \S+regular-file: is not a directory/ },
  {
    name: "build runc@v1.0.0-rc2: reported as refused, exit 1 (not all built)",
    args: building("build", "runc@v1.0.0-rc2"),
    code: 1,
    error: /1 of 1 targets did not build: runc@v1\.0\.0-rc2/,
    report: {
      text: /^runc@v1\.0\.0-rc2: refused — runc v1\.0\.0-rc2 is not rebuilt: .*build v1\.0\.0-rc9 instead$/,
      json: { targets: [expect.objectContaining({ target: "runc@v1.0.0-rc2", status: "refused" })] },
    },
  },
];

const toolchain: Row[] = [
  { name: "toolchain bootstrap --suite sid", args: ["toolchain", "bootstrap", "--suite", "sid"], code: 2, error: /--suite sid: expected one of bookworm \(Go 1\.19\), bullseye \(Go 1\.15\)/ },
  // Text only: an appended --json would be taken as the suite's value.
  { name: "toolchain bootstrap --suite without a value", args: ["toolchain", "bootstrap", "--suite"], code: 2, parser: true, noJson: true, error: /option '--suite <suite>' argument missing/ },
  { name: "toolchain bootstrap --registry http://x", args: ["toolchain", "bootstrap", "--registry", "http://x"], code: 2, error: /--registry http:\/\/x: expected a registry prefix without a scheme/ },
  { name: "toolchain bootstrap --debian-mirror ftp:/x", args: ["toolchain", "bootstrap", "--debian-mirror", "ftp:/x"], code: 2, error: /--debian-mirror ftp:\/x: expected the URL of a Debian mirror/ },
  { name: "toolchain bootstrap --debian-mirror 'not a url'", args: ["toolchain", "bootstrap", "--debian-mirror", "not a url"], code: 2, error: /--debian-mirror not a url: expected the URL of a Debian mirror/ },
];

const verify: Row[] = [
  { name: "verify without a file", args: ["verify"], code: 2, parser: true, error: /missing required argument 'file'/ },
  { name: "verify a missing file", args: ["verify", "@missing"], code: 2, error: /\S+missing: no such file/ },
  { name: "verify a directory", args: ["verify", "@empty"], code: 2, error: /\S+empty is not a regular file/ },
  { name: "verify a FIFO (must not hang)", args: ["verify", "@fifo"], code: 2, error: /\S+fifo is not a regular file/ },
  { name: "verify a text file", args: ["verify", "@text"], code: 2, error: /\S+notes\.txt is not a Go binary \(not an ELF executable\)/ },
  { name: "verify a truncated ELF", args: ["verify", "@truncated"], code: 2, error: /\S+truncated is not a Go binary \(a truncated or damaged ELF file: its headers point past its 100 bytes\)$/ },
  { name: "verify a non-Go ELF", args: ["verify", "@nonGo"], code: 2, error: /\S+true is not a Go binary \(no Go runtime tables\)/ },
  { name: "verify --target-glibc 3.0", args: ["verify", "@good", "--target-glibc", "3.0"], code: 2, error: /--target-glibc 3\.0: expected a glibc version such as 2\.17/ },
  {
    name: "verify GOOD TEXT: GOOD is still reported, exit 2 for TEXT",
    args: ["verify", "@good", "@text"],
    code: 2,
    error: /1 of 2 files could not be verified: \S+notes\.txt is not a Go binary/,
    report: { text: /^\S+\/docker: kmem accounting OFF\n/, json: { results: [expect.objectContaining({ file: expect.stringMatching(/\/docker$/), kmem: "off", ok: true })] } },
  },
  {
    name: "verify FIFO GOOD: a bad file first does not hide the good one",
    args: ["verify", "@fifo", "@good"],
    code: 2,
    error: /1 of 2 files could not be verified: \S+fifo is not a regular file/,
    report: { text: /^\S+\/docker: kmem accounting OFF\n/, json: { results: [expect.objectContaining({ file: expect.stringMatching(/\/docker$/), kmem: "off" })] } },
  },
];

const install: Row[] = [
  { name: "install without FILE", args: installing("--component", "runc"), code: 2, error: /install: FILE is required \(or --rollback\)/ },
  { name: "install --rollback with a FILE", args: installing("@good", "--rollback", "--component", "runc"), code: 2, error: /install --rollback takes no FILE: it restores the newest backup/ },
  { name: "install --component containerd", args: installing("@good", "--component", "containerd"), code: 2, parser: true, error: /'--component <name>' argument 'containerd' is invalid\. Allowed choices are runc, kubelet/ },
  { name: "install without --component", args: installing("@good"), code: 2, parser: true, error: /required option '--component <name>' not specified/ },
  { name: "install --path ../../etc/x escaping --root", args: installing("@good", "--component", "runc", "--path", "../../etc/x"), code: 2, error: /--path \.\.\/\.\.\/etc\/x: outside --root \S+node; give the path as the node sees it, such as \/usr\/bin\/runc/ },
  { name: "install --path to no file", args: installing("@good", "--component", "runc", "--path", "/usr/bin/nothing"), code: 2, error: /--path \/usr\/bin\/nothing: no such file under \S+node/ },
  { name: "install --root that does not exist", args: ["install", "@good", "--component", "runc", "--root", "@missing", "--dry-run"], code: 2, error: /--root \S+missing: no such directory; expected the node's root file system/ },
  { name: "install --rollback --root that does not exist", args: ["install", "--rollback", "--component", "runc", "--root", "@missing"], code: 2, error: /--root \S+missing: no such directory/ },
  { name: "install a missing FILE", args: installing("@missing", "--component", "runc"), code: 2, error: /\S+missing: no such file/ },
  { name: "install a truncated ELF", args: installing("@truncated", "--component", "runc"), code: 2, error: /\S+truncated is not a Go binary \(a truncated or damaged ELF file/ },
  { name: "install a directory", args: installing("@empty", "--component", "kubelet"), code: 2, error: /\S+empty is not a regular file/ },
];

const doctor: Row[] = [
  { name: "doctor --root that does not exist", args: ["doctor", "--root", "@missing"], code: 2, error: /--root \S+missing: no such directory/ },
  { name: "doctor --root a regular file", args: ["doctor", "--root", "@file"], code: 2, error: /--root \S+regular-file: not a directory; expected the node's root/ },
  { name: "doctor --root without /proc", args: ["doctor", "--root", "@empty"], code: 2, error: /\S+empty\/proc\/sys\/kernel\/osrelease is missing: --root must hold the node's \/proc and \/sys/ },
  { name: "doctor with an argument", args: ["doctor", "/"], code: 2, parser: true, error: /too many arguments for 'doctor'/ },
];

const download: Row[] = [
  { name: "download --repo 'not a repo'", args: ["download", "runc", "v1.0.0-rc9", "--repo", "not a repo", "--out", "@out"], code: 2, error: /--repo not a repo: expected a GitHub repository as OWNER\/REPO, such as nokmem-build\/nokmem-build/ },
  { name: "download --repo ../x", args: ["download", "runc", "v1.0.0-rc9", "--repo", "../x", "--out", "@out"], code: 2, error: /--repo \.\.\/x: expected a GitHub repository as OWNER\/REPO/ },
  { name: "NOKMEM_BUILD_REPO=owner-only", args: ["download", "runc", "v1.0.0-rc9", "--out", "@out"], env: { NOKMEM_BUILD_REPO: "owner-only" }, code: 2, error: /--repo owner-only: expected a GitHub repository as OWNER\/REPO/ },
  { name: "download --base-url ftp://x", args: ["download", "runc", "v1.0.0-rc9", "--base-url", "ftp://x", "--out", "@out"], code: 2, error: /--base-url ftp:\/\/x: expected an http\(s\) URL that release tags sit under/ },
  { name: "download a refused version", args: downloading("runc", "v1.0.0-rc2"), code: 2, error: /runc v1\.0\.0-rc2 is not rebuilt: .*build v1\.0\.0-rc9 instead/ },
  { name: "download a malformed version", args: downloading("kubelet", "1.18"), code: 2, error: /'1\.18' is not a kubelet version: expected a release tag such as v1\.18\.6/ },
  { name: "download --arch arm", args: downloading("runc", "v1.0.0-rc9", "--arch", "arm"), code: 2, parser: true, error: /'--arch <arch>' argument 'arm' is invalid\. Allowed choices are amd64, arm64/ },
  { name: "download containerd", args: downloading("containerd", "v1.6.0"), code: 2, parser: true, error: /value 'containerd' is invalid for argument 'component'\. Allowed choices are runc, kubelet/ },
  { name: "download without a version", args: ["download", "runc"], code: 2, parser: true, error: /missing required argument 'version'/ },
  { name: "download --out a regular file, before any request", args: ["download", "runc", "v1.0.0-rc9", "--base-url", "http://127.0.0.1:2/releases", "--out", "@file"], code: 2, error: /--out \S+regular-file: is not a directory/ },
  { name: "download --out on a read-only mount, before any request", args: ["download", "runc", "v1.0.0-rc9", "--base-url", "http://127.0.0.1:2/releases", "--out", "@ro"], code: 2, error: /--out \S+read-only: cannot write in \S+read-only \(EROFS/ },
];

const CATALOGUE: Record<string, Row[]> = { versions, commands, "build flags": buildFlags, "build targets": targets, "toolchain bootstrap": toolchain, verify, install, doctor, download };

let work: string;
const systemTmp = process.env.TMPDIR;

beforeAll(async () => {
  work = await tempDir("bad-inputs");
  // os.tmpdir() of this file and of every CLI it runs: staging entries of other runs on this machine stay out of the count.
  process.env.TMPDIR = path.join(work, "tmp");
  await mkdir(process.env.TMPDIR);
  P.engine = path.join(work, "engine.sock");
  engine = await recordingEngine(P.engine);
  const watched = path.join(work, "watched");
  const inputs = path.join(work, "inputs");
  Object.assign(P, {
    watched,
    out: path.join(watched, "dist"),
    cache: path.join(watched, "cache"),
    file: path.join(watched, "regular-file"),
    fileChild: path.join(watched, "regular-file", "dist"),
    ro: path.join(watched, "read-only"),
    roChild: path.join(watched, "read-only", "dist"),
    node: path.join(watched, "node"),
    missing: path.join(work, "missing"),
    empty: path.join(inputs, "empty"),
    good: path.join(inputs, "good", "docker"),
    text: path.join(inputs, "notes.txt"),
    fifo: path.join(inputs, "fifo"),
    truncated: path.join(inputs, "truncated"),
    nonGo: path.join(inputs, "true"),
  });
  await mkdir(P.out!, { recursive: true });
  await writeFile(path.join(P.out!, "SHA256SUMS"), "keep me\n");
  await writeFile(P.file!, "a file, not a directory\n");
  await mkdir(P.ro!);
  await run("mount", ["-t", "tmpfs", "-o", "ro", "tmpfs", P.ro!]);
  await createNodeTree(P.node!, { release: "3.10.0-957.el7.x86_64", cmdline: "ro quiet", cgroup: "v1", countedMemoryCgroups: 40, binaries: { runc: "/bin/true" } });

  await mkdir(P.empty!, { recursive: true });
  await mkdir(path.dirname(P.good!));
  // The docker CLI is a static Go program without runc code: verify passes it.
  await copyFile((await run("sh", ["-c", "command -v docker"])).stdout.trim(), P.good!);
  await writeFile(P.text!, "not a binary\n");
  await run("mkfifo", [P.fifo!]);
  await writeFile(P.truncated!, (await readFile("/bin/true")).subarray(0, 100));
  await copyFile("/bin/true", P.nonGo!);
});

afterAll(async () => {
  if (systemTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = systemTmp;
  await engine?.close();
  if (P.ro) await run("umount", [P.ro]).catch(() => undefined);
  if (work) await removeDir(work);
});

describe("bad inputs: one line, the documented exit code, nothing changed or left behind", () => {
  for (const [group, rows] of Object.entries(CATALOGUE)) {
    describe(group, () => {
      for (const row of rows) it(row.name, () => expectRefused(row), 120_000);
    });
  }
});
