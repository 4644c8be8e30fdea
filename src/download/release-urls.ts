import { UsageError } from "../errors.js";
import { SUMS_FILE } from "../release/checksums.js";
import { assetName, releaseTag, type ReleaseAsset } from "../release/names.js";

/** Placeholder until the project's release repository is settled (see README); --repo or the environment (ENV.repo) override it. */
export const DEFAULT_REPO = "nokmem-build/nokmem-build";

/** Every file of one release that a download reads, with the names it is saved under. */
export interface ReleaseFiles extends ReleaseAsset {
  tag: string;
  asset: string;
  assetUrl: string;
  checksumUrl: string;
  manifestUrl: string;
  sumsUrl: string;
}

/** The prefix GitHub serves release files under; a mirror replaces it with --base-url. */
export const githubDownloadBase = (repo: string) => `https://github.com/${repo}/releases/download`;

export function releaseFiles(release: ReleaseAsset, base: string): ReleaseFiles {
  const tag = releaseTag(release);
  const asset = assetName(release);
  const url = (file: string) => `${base}/${encodeURIComponent(tag)}/${encodeURIComponent(file)}`;
  return {
    ...release,
    tag,
    asset,
    assetUrl: url(asset),
    checksumUrl: url(`${asset}.sha256`),
    manifestUrl: url(`${asset}.json`),
    sumsUrl: url(SUMS_FILE),
  };
}

// GitHub's own rules for owner and repository names; anything else would build a URL to somewhere unintended.
const REPO_SHAPE = /^[A-Za-z0-9-]+\/[A-Za-z0-9_.-]+$/;

export function parseRepo(value: string): string {
  if (!REPO_SHAPE.test(value) || value.endsWith("/.") || value.endsWith("/..")) {
    throw new UsageError(`--repo ${value}: expected a GitHub repository as OWNER/REPO, such as ${DEFAULT_REPO}`);
  }
  return value;
}

/** A mirror's URL without its trailing slash; only http(s), since it is fetched. */
export function parseBaseUrl(value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || !["http:", "https:"].includes(url.protocol) || url.search || url.hash) {
    throw new UsageError(`--base-url ${value}: expected an http(s) URL that release tags sit under, such as ${githubDownloadBase(DEFAULT_REPO)}`);
  }
  return url.href.replace(/\/+$/, "");
}
