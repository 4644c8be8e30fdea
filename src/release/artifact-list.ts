import path from "node:path";

export type ArtifactKind = "binary" | "checksum" | "manifest" | "log" | "patch";

export interface Artifact {
  kind: ArtifactKind;
  /** File name in the output directory. */
  name: string;
  /** Where it is staged now. */
  path: string;
}

/** What a build will publish; names are unique and flat, as in a release. */
export class ArtifactList {
  readonly #items: Artifact[] = [];

  add(kind: ArtifactKind, file: string, name = path.basename(file)): Artifact {
    if (name !== path.basename(name) || name.startsWith(".")) throw new Error(`artifact name ${name} must be a plain file name`);
    if (this.#items.some((a) => a.name === name)) throw new Error(`artifact ${name} added twice`);
    const artifact = { kind, name, path: path.resolve(file) };
    this.#items.push(artifact);
    return artifact;
  }

  all(): readonly Artifact[] {
    return this.#items;
  }

  ofKind(kind: ArtifactKind): Artifact[] {
    return this.#items.filter((a) => a.kind === kind);
  }
}
