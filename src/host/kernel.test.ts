import { describe, expect, it } from "vitest";
import { kernelSupport } from "./kernel.js";

describe("cgroup.memory=nokmem support by kernel release", () => {
  it.each([
    ["3.10.0-957.21.3.el7.x86_64", "el7-too-old"],
    ["3.10.0-1062.el7.x86_64", "el7-too-old"],
    ["3.10.0-1062.1.2.el7.x86_64", "el7-too-old"],
    ["3.10.0-1062.4.1.el7.x86_64", "el7-supported"],
    ["3.10.0-1062.4.3.el7.x86_64", "el7-supported"],
    ["3.10.0-1127.el7.x86_64", "el7-supported"],
    ["3.10.0-1160.119.1.el7.x86_64", "el7-supported"],
    ["5.14.0-362.el9.x86_64", "other"],
    ["6.1.0-18-amd64", "other"],
  ])("%s: %s", (release, kind) => {
    expect(kernelSupport(release).kind).toBe(kind);
  });
});
