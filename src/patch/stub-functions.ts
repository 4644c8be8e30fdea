import { UserError } from "../errors.js";
import { findFunctions, findImports, maskNonCode } from "./go-scan.js";

export interface StubResult {
  text: string;
  changed: boolean;
  /** Functions whose body was replaced (already-stubbed ones are not listed). */
  stubbed: string[];
  /** Import paths that only the replaced bodies used (Go refuses unused imports). */
  removedImports: string[];
}

const STUB = "\n\treturn nil\n";

/**
 * Replaces the bodies of the named top-level functions with `return nil`,
 * whatever their parameter types, then drops imports that only those bodies
 * used. Running it again on its own output changes nothing.
 */
export function stubFunctions(file: string, src: string, names: string[]): StubResult {
  let text = src;
  const stubbed: string[] = [];
  for (const name of names) {
    const masked = maskNonCode(text);
    const found = findFunctions(text, masked, name);
    if (found.length !== 1) {
      throw new UserError(
        `cannot patch ${file}: function ${name} ${found.length ? `appears ${found.length} times` : "was not found"}; ` +
          "this source does not look like the vendored runc the recipe expects: check the version and the recipe's patch",
      );
    }
    const fn = found[0]!;
    if (fn.results !== "error") {
      throw new UserError(`cannot patch ${file}: function ${name} returns "${fn.results}", not error, so "return nil" would not compile`);
    }
    if (text.slice(fn.bodyOpen + 1, fn.bodyClose).trim() === "return nil") continue;
    text = text.slice(0, fn.bodyOpen + 1) + STUB + text.slice(fn.bodyClose);
    stubbed.push(name);
  }

  const removedImports: string[] = [];
  if (stubbed.length) {
    // An import goes only if the original used it and the patched code no longer does.
    const usedIn = (code: string, name: string, skip: Array<[number, number]>) => {
      const masked = maskNonCode(code).split("");
      for (const [a, b] of skip) for (let k = a; k < b; k++) masked[k] = " ";
      return new RegExp(`\\b${name}\\s*\\.`).test(masked.join(""));
    };
    const before = findImports(src, maskNonCode(src));
    const after = findImports(text, maskNonCode(text));
    const span = (list: typeof before) => list.map((i): [number, number] => [i.start, i.end]);
    const unused = after.filter(
      (imp) => imp.name !== "_" && imp.name !== "." && usedIn(src, imp.name, span(before)) && !usedIn(text, imp.name, span(after)),
    );
    for (const imp of [...unused].reverse()) {
      text = text.slice(0, imp.start) + text.slice(imp.end);
      removedImports.unshift(imp.path);
    }
  }
  return { text, changed: text !== src, stubbed, removedImports };
}
