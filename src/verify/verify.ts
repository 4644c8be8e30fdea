import { readFile } from "node:fs/promises";
import { readManifestBeside, type BuildManifest } from "../release/manifest.js";
import path from "node:path";
import { SUMS_FILE, parseSums, sha256File } from "../release/checksums.js";
import { checkGlibc, describeGlibc } from "../binary/glibc.js";
import { inspectGoBinary, kmemVerdict } from "../binary/go-binary.js";
import type { Check } from "./check.js";
import { observeKmemWrites } from "./runtime-check.js";

export type { Check } from "./check.js";

export interface VerifyResult {
  file: string;
  component: "runc" | "kubelet" | null;
  goVersion: string | null;
  /** off: nothing in it enables kmem accounting; on: it does (judged from the binary alone). */
  kmem: "off" | "on";
  ok: boolean;
  checks: Check[];
}

export interface VerifyOptions {
  targetGlibc: string;
  /** Also run the binary as a runtime (runc only) and watch for kmem writes. */
  runtime: boolean;
}

/** The manifest's word that this binary was source-patched, held to the patch file and the binary's own sha256. */
async function patchEvidence(file: string, sha256: string, manifest: BuildManifest | undefined): Promise<Check | undefined> {
  if (manifest?.recipe.method !== "source-patch" || !manifest.patch) return undefined;
  const patchSha = await sha256File(`${file}.patch`).catch(() => undefined);
  const ok = manifest.binary.sha256 === sha256 && patchSha === manifest.patch.sha256;
  return {
    name: "patch",
    ok,
    detail: ok
      ? `source-patched: ${path.basename(file)}.json and .patch record ${manifest.patch.file} stubbed to return nil, and their checksums match`
      : `the manifest says source-patched, but ${patchSha ? "the binary or the .patch does not match its checksums" : `${path.basename(file)}.patch is missing`}`,
  };
}

async function checksumCheck(file: string, sha256: string, manifest: BuildManifest | undefined): Promise<Check> {
  const sums = await readFile(path.join(path.dirname(file), SUMS_FILE), "utf8").then(parseSums, () => undefined);
  const expected: Array<[string, string]> = [];
  const listed = sums?.get(path.basename(file));
  if (listed) expected.push([SUMS_FILE, listed]);
  if (manifest?.binary.sha256) expected.push([`${path.basename(file)}.json`, manifest.binary.sha256]);
  if (!expected.length) return { name: "checksum", ok: true, detail: `sha256 ${sha256} (no ${SUMS_FILE} entry or manifest beside it to compare)` };
  const wrong = expected.filter(([, want]) => want !== sha256);
  return wrong.length
    ? { name: "checksum", ok: false, detail: `sha256 ${sha256} does not match ${wrong.map(([src, want]) => `${src} (${want})`).join(", ")}` }
    : { name: "checksum", ok: true, detail: `sha256 matches ${expected.map(([src]) => src).join(" and ")}` };
}

/** Verifies one binary: which kmem code it carries, whether it starts on the target glibc, and its checksums. */
export async function verifyBinary(file: string, opts: VerifyOptions): Promise<VerifyResult> {
  const bin = await inspectGoBinary(file);
  const { sha256 } = bin;
  const manifest = await readManifestBeside(file);
  const patch = await patchEvidence(file, sha256, manifest);
  const { kmem, evidence } = kmemVerdict(bin);
  const kmemCheck: Check = { name: "kmem", ok: kmem === "off", detail: evidence };
  const glibc = checkGlibc(bin.elf, opts.targetGlibc);
  const checks: Check[] = [
    kmemCheck,
    ...(patch ? [patch] : []),
    {
      name: "glibc",
      ok: glibc.ok,
      detail: describeGlibc(glibc, opts.targetGlibc),
    },
    await checksumCheck(file, sha256, manifest),
  ];
  if (opts.runtime) checks.push(await observeKmemWrites(file));
  return { file, component: bin.component ?? null, goVersion: bin.goVersion ?? null, kmem, ok: checks.every((c) => c.ok), checks };
}
