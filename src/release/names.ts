import type { Component } from "../recipes/schema.js";

/** Architectures assets are named for. */
export const ARCHES = ["amd64", "arm64"] as const;
export type Arch = (typeof ARCHES)[number];

/** What Docker engines and kernels call the architectures, by the name assets use. */
const ARCH_ALIASES: Record<string, Arch> = { amd64: "amd64", x86_64: "amd64", arm64: "arm64", aarch64: "arm64" };

/** The asset architecture for an engine's or kernel's name, or undefined for one not built. */
export const assetArch = (name: string): Arch | undefined => ARCH_ALIASES[name];

export interface ReleaseAsset {
  component: Component;
  /** The upstream tag, with its `v`: `v1.0.0-rc9`. */
  version: string;
  arch: Arch;
}

/** The file name a build writes and a release publishes: `runc-v1.0.0-rc9-nokmem-linux-amd64`. */
export const assetName = ({ component, version, arch }: ReleaseAsset) => `${component}-${version}-nokmem-linux-${arch}`;

/** One release per asset, so each tag names exactly one binary. */
export const releaseTag = ({ component, version }: Pick<ReleaseAsset, "component" | "version">) => `${component}-${version}-nokmem`;
