import path from "node:path";
import { Argument, Option, type Command } from "commander";
import { fetchVerified } from "../download/fetch-verified.js";
import { ENV } from "../env.js";
import { checkWritableDir } from "../fs/writable.js";
import { DEFAULT_REPO, githubDownloadBase, parseBaseUrl, parseRepo, releaseFiles } from "../download/release-urls.js";
import { COMPONENTS } from "../recipes/load.js";
import { lookupRecipe } from "../recipes/lookup.js";
import { ARCHES, type Arch } from "../release/names.js";
import { jsonOption } from "./options.js";
import type { Component } from "../recipes/schema.js";
import type { CommandRuntime } from "./runtime.js";

interface DownloadFlags {
  repo: string;
  baseUrl?: string;
  arch: Arch;
  out: string;
  json?: boolean;
}

/** `nokmem-build download COMPONENT VERSION`: a published binary instead of a local build. */
export function registerDownloadCommand(program: Command, rt: CommandRuntime): void {
  program
    .command("download")
    .description("download a published nokmem binary from its GitHub release, keeping it only if its sha256 matches the release's")
    .addArgument(new Argument("<component>", "what to download").choices(COMPONENTS))
    .addArgument(new Argument("<version>", "upstream release tag, such as v1.0.0-rc9"))
    .addOption(new Option("--repo <owner/repo>", "GitHub repository that publishes the releases").default(DEFAULT_REPO).env(ENV.repo).argParser(parseRepo))
    .addOption(new Option("--base-url <url>", `mirror to download from instead of ${githubDownloadBase("OWNER/REPO")}`).argParser(parseBaseUrl))
    .addOption(new Option("--arch <arch>", "architecture of the binary").choices(ARCHES).default("amd64"))
    .addOption(new Option("--out <dir>", "output directory").default("."))
    .addOption(jsonOption())
    .action(async (component: Component, version: string, flags: DownloadFlags) => {
      // The recipes word malformed and refused versions (exit 2) before any request is made.
      const { tag } = await lookupRecipe(component, version, { allowUnpinned: true });
      // A bad --out is a usage error before any request, not after the download.
      await checkWritableDir(flags.out, "--out");
      const release = releaseFiles({ component, version: tag, arch: flags.arch }, flags.baseUrl ?? githubDownloadBase(flags.repo));
      const result = await fetchVerified({
        release,
        outDir: path.resolve(flags.out),
        signal: rt.signal,
        onProgress: process.stderr.isTTY && !flags.json ? progressPrinter(rt, release.asset) : undefined,
        onRetry: flags.json ? undefined : (message) => rt.warn(message),
      });
      if (flags.json) return rt.printJson({ ok: true, component, version: tag, asset: release.asset, ...result });
      rt.print(`${result.path}  sha256 ${result.sha256}`);
    });
}

/** One line per tenth of the binary rather than per chunk. */
function progressPrinter(rt: CommandRuntime, asset: string): (received: number, total: number | undefined) => void {
  let shown = -1;
  return (received, total) => {
    if (!total) return;
    const tenth = Math.floor((received * 10) / total);
    if (tenth === shown) return;
    shown = tenth;
    rt.progress(`${asset}: ${tenth * 10}% of ${(total / 2 ** 20).toFixed(1)} MiB`);
  };
}
