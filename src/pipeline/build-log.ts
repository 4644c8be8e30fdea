import { appendFileSync } from "node:fs";

/** The full build log: every line any step or container printed, kept beside the artifacts. */
export class BuildLog {
  #tail: string[] = [];

  constructor(readonly file: string) {}

  /** A note from the tool itself. */
  line(text: string): void {
    appendFileSync(this.file, `${new Date().toISOString()} ${text.replace(/\n$/, "")}\n`);
  }

  /** What a build container printed: logged, and its last lines kept for the error report. */
  output(text: string): void {
    this.line(text);
    this.#tail.push(...text.split("\n").filter(Boolean));
    if (this.#tail.length > 40) this.#tail.splice(0, this.#tail.length - 40);
  }

  /** The last lines, for an error report. */
  tail(n = 20): string[] {
    return this.#tail.slice(-n);
  }
}
