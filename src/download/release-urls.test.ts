import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { assetName, releaseTag } from "../release/names.js";
import { DEFAULT_REPO, githubDownloadBase, parseBaseUrl, parseRepo, releaseFiles } from "./release-urls.js";

const rc9 = { component: "runc", version: "v1.0.0-rc9", arch: "amd64" } as const;
const kubelet = { component: "kubelet", version: "v1.18.6", arch: "arm64" } as const;

describe("release names", () => {
  it("names assets as a build writes them, and one release tag per asset", () => {
    expect(assetName(rc9)).toBe("runc-v1.0.0-rc9-nokmem-linux-amd64");
    expect(assetName(kubelet)).toBe("kubelet-v1.18.6-nokmem-linux-arm64");
    expect(releaseTag(rc9)).toBe("runc-v1.0.0-rc9-nokmem");
    expect(releaseTag(kubelet)).toBe("kubelet-v1.18.6-nokmem");
  });

  it("puts every file of a release under GitHub's download path", () => {
    const files = releaseFiles(rc9, githubDownloadBase(DEFAULT_REPO));
    const dir = `https://github.com/${DEFAULT_REPO}/releases/download/runc-v1.0.0-rc9-nokmem`;
    expect(files).toEqual({
      ...rc9,
      tag: "runc-v1.0.0-rc9-nokmem",
      asset: "runc-v1.0.0-rc9-nokmem-linux-amd64",
      assetUrl: `${dir}/runc-v1.0.0-rc9-nokmem-linux-amd64`,
      checksumUrl: `${dir}/runc-v1.0.0-rc9-nokmem-linux-amd64.sha256`,
      manifestUrl: `${dir}/runc-v1.0.0-rc9-nokmem-linux-amd64.json`,
      sumsUrl: `${dir}/SHA256SUMS`,
    });
  });

  it("uses another repository or a mirror in place of the default", () => {
    expect(releaseFiles(kubelet, githubDownloadBase("acme/k8s-bins")).assetUrl).toBe(
      "https://github.com/acme/k8s-bins/releases/download/kubelet-v1.18.6-nokmem/kubelet-v1.18.6-nokmem-linux-arm64",
    );
    expect(releaseFiles(kubelet, parseBaseUrl("http://127.0.0.1:8080/mirror/")).sumsUrl).toBe(
      "http://127.0.0.1:8080/mirror/kubelet-v1.18.6-nokmem/SHA256SUMS",
    );
  });
});

describe("--repo and --base-url", () => {
  it("accepts OWNER/REPO", () => {
    expect(parseRepo("acme/nokmem.bins")).toBe("acme/nokmem.bins");
    expect(parseRepo(DEFAULT_REPO)).toBe(DEFAULT_REPO);
  });

  it.each(["acme", "acme/", "/bins", "acme/bins/extra", "acme/..", "ac me/bins", "https://github.com/acme/bins"])(
    "refuses --repo %s as a usage error",
    (repo) => {
      expect(() => parseRepo(repo)).toThrow(UsageError);
      expect(() => parseRepo(repo)).toThrow(/expected a GitHub repository as OWNER\/REPO/);
    },
  );

  it("keeps a mirror URL's path and drops its trailing slashes", () => {
    expect(parseBaseUrl("https://192.0.2.10/gh/acme/bins/releases/download//")).toBe("https://192.0.2.10/gh/acme/bins/releases/download");
    expect(parseBaseUrl("http://127.0.0.1:9/x")).toBe("http://127.0.0.1:9/x");
  });

  it.each(["192.0.2.10/releases", "ftp://192.0.2.10/releases", "file:///srv/releases", "https://192.0.2.10/r?x=1", ""])(
    "refuses --base-url %j as a usage error",
    (url) => {
      expect(() => parseBaseUrl(url)).toThrow(UsageError);
    },
  );
});
