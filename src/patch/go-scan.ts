/**
 * A minimal Go lexer: enough to find top-level functions and their bodies
 * without being fooled by braces or names inside strings, runes and comments.
 * Written here because no maintained npm package parses Go source; the patch
 * needs only this much.
 */

/** The source with comment and literal contents blanked (same length, newlines kept), so positions map 1:1. */
export function maskNonCode(src: string): string {
  const out = src.split("");
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === "/" && src[i + 1] === "/") {
      const end = src.indexOf("\n", i);
      const stop = end === -1 ? src.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end === -1 ? src.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === "`") {
      const end = src.indexOf("`", i + 1);
      const stop = end === -1 ? src.length : end + 1;
      blank(i + 1, stop - 1);
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
    } else {
      i++;
    }
  }
  return out.join("");
}

/** Index of the bracket closing the one at `open` (in masked source), or -1. */
export function matchingBracket(masked: string, open: number): number {
  const pairs: Record<string, string> = { "(": ")", "{": "}", "[": "]" };
  const stack: string[] = [];
  for (let i = open; i < masked.length; i++) {
    const c = masked[i]!;
    if (pairs[c]) stack.push(pairs[c]);
    else if (c === stack.at(-1)) {
      stack.pop();
      if (!stack.length) return i;
    }
  }
  return -1;
}

export interface GoFunction {
  name: string;
  /** Text between the parameter list and the body: the result type(s). */
  results: string;
  /** Indexes of the body's `{` and `}`. */
  bodyOpen: number;
  bodyClose: number;
}

/** Every top-level (non-method) function declaration with this name. */
export function findFunctions(src: string, masked: string, name: string): GoFunction[] {
  const found: GoFunction[] = [];
  const re = new RegExp(`^func[ \\t]+${name}[ \\t]*\\(`, "gm");
  for (const m of masked.matchAll(re)) {
    const paramsClose = matchingBracket(masked, m.index + m[0].length - 1);
    if (paramsClose === -1) continue;
    // The body opens at the first `{` that is not part of `interface{}` / `struct{}` in the results.
    let bodyOpen = -1;
    for (let i = paramsClose + 1; i < masked.length; i++) {
      if (masked[i] === "(" || masked[i] === "[") i = matchingBracket(masked, i);
      else if (masked[i] === "{" && !/(interface|struct)\s*$/.test(masked.slice(paramsClose, i))) {
        bodyOpen = i;
        break;
      }
      if (i === -1) break;
    }
    const bodyClose = bodyOpen === -1 ? -1 : matchingBracket(masked, bodyOpen);
    if (bodyClose === -1) continue;
    found.push({ name, results: src.slice(paramsClose + 1, bodyOpen).trim(), bodyOpen, bodyClose });
  }
  return found;
}

export interface GoImport {
  /** The name code uses: the alias, or the path's last element. */
  name: string;
  path: string;
  /** The whole line(s) of this import spec, for removal. */
  start: number;
  end: number;
}

/** Import specs, grouped or single, with their line spans. */
export function findImports(src: string, masked: string): GoImport[] {
  const imports: GoImport[] = [];
  const spec = /^[ \t]*(?:import[ \t]+)?(?:([A-Za-z_]\w*|\.)[ \t]+)?"([^"]+)"[^\n]*\n?/gm;
  const addFrom = (from: number, to: number) => {
    spec.lastIndex = from;
    for (let m = spec.exec(src); m && m.index < to; m = spec.exec(src)) {
      const path = m[2]!;
      imports.push({ name: m[1] ?? path.split("/").at(-1)!, path, start: m.index, end: m.index + m[0].length });
    }
  };
  for (const m of masked.matchAll(/^import[ \t]*\(/gm)) {
    const close = matchingBracket(masked, m.index + m[0].length - 1);
    addFrom(m.index + m[0].length, close);
  }
  for (const m of masked.matchAll(/^import[ \t]+(?:[A-Za-z_]\w*[ \t]+)?"/gm)) addFrom(m.index, m.index + 1);
  return imports.sort((a, b) => a.start - b.start);
}
