import { describe, expect, it } from "vitest";
import { memoryGoGodeps } from "../../test/fixtures/kubelet-fixture.js";
import { stubFunctions } from "./stub-functions.js";

const FILE = "vendor/github.com/opencontainers/runc/libcontainer/cgroups/fs/memory.go";
const STUBS = ["EnableKernelMemoryAccounting", "setKernelMemory"];

const importBlock = (text: string) => text.match(/import \(\n([\s\S]*?)\)/)![1]!.split("\n").map((l) => l.trim()).filter(Boolean);

describe("stubbing the vendored runc kmem functions", () => {
  it.each([
    ["int64", ['"strconv"', '"syscall" // only for EBUSY below']],
    ["uint64", ['"math"', '"strconv"', '"syscall" // only for EBUSY below']],
  ] as const)("replaces only the two bodies (%s) and drops the imports only they used", (variant, dropped) => {
    const src = memoryGoGodeps(variant);
    const out = stubFunctions(FILE, src, STUBS);
    expect(out.changed).toBe(true);
    expect(out.stubbed).toEqual(STUBS);
    expect(out.removedImports).toEqual(dropped.map((d) => d.split(" ")[0]!.replaceAll('"', "")));
    expect(out.text).toContain("func EnableKernelMemoryAccounting(path string) error {\n\treturn nil\n}\n");
    expect(out.text).toContain(`func setKernelMemory(path string, kernelMemoryLimit ${variant}) error {\n\treturn nil\n}\n`);
    expect(importBlock(out.text)).toEqual(importBlock(src).filter((l) => !(dropped as readonly string[]).includes(l)));
    // Everything outside the two bodies and the dropped imports is unchanged.
    expect(out.text).toContain(src.slice(src.indexOf("const ("), src.indexOf("func EnableKernelMemoryAccounting")));
    expect(out.text).not.toMatch(/strconv\.|syscall\.|math\./);
  });

  it("is idempotent", () => {
    const once = stubFunctions(FILE, memoryGoGodeps("int64"), STUBS);
    const twice = stubFunctions(FILE, once.text, STUBS);
    expect(twice).toEqual({ text: once.text, changed: false, stubbed: [], removedImports: [] });
  });

  it("fails loudly, naming the file and function, when an anchor is missing", () => {
    expect(() => stubFunctions(FILE, memoryGoGodeps("missing-anchor"), STUBS)).toThrow(
      `cannot patch ${FILE}: function setKernelMemory was not found`,
    );
  });

  it("fails loudly when an anchor appears twice", () => {
    const src = memoryGoGodeps("int64");
    const doubled = `${src}\nfunc EnableKernelMemoryAccounting(path string) error {\n\treturn nil\n}\n`;
    expect(() => stubFunctions(FILE, doubled, STUBS)).toThrow(/function EnableKernelMemoryAccounting appears 2 times/);
  });

  it("ignores methods and mentions in comments and strings with the same name", () => {
    const src = `package fs

import (
\t"errors"
\t"fmt"
)

// func setKernelMemory(path string) error { is documented here }
func (m *X) setKernelMemory(path string, limit int64) error {
\treturn fmt.Errorf("method, not the function")
}

func setKernelMemory(path string, limit int64) error {
\ts := "func setKernelMemory(path string) error {"
\treturn errors.New(s)
}
`;
    const out = stubFunctions("x.go", src, ["setKernelMemory"]);
    expect(out.text).toContain('return fmt.Errorf("method, not the function")');
    expect(out.text).toContain("func setKernelMemory(path string, limit int64) error {\n\treturn nil\n}");
    expect(out.removedImports).toEqual(["errors"]);
  });

  it("refuses a function that does not return error", () => {
    const src = "package fs\n\nfunc setKernelMemory(path string) (int, error) {\n\treturn 0, nil\n}\n";
    expect(() => stubFunctions("x.go", src, ["setKernelMemory"])).toThrow(/returns "\(int, error\)", not error/);
  });

  it("handles a single-line import", () => {
    const src = 'package fs\n\nimport "syscall"\n\nfunc EnableKernelMemoryAccounting(path string) error {\n\treturn syscall.EBUSY\n}\n';
    const out = stubFunctions("x.go", src, ["EnableKernelMemoryAccounting"]);
    expect(out.text).toBe("package fs\n\n\nfunc EnableKernelMemoryAccounting(path string) error {\n\treturn nil\n}\n");
  });
});
