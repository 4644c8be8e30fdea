/** First el7 kernel that honours cgroup.memory=nokmem (RHEL 7.7 z-stream). */
export const EL7_NOKMEM = [1062, 4, 1] as const;

export type KernelSupport =
  | { kind: "el7-too-old"; release: string }
  | { kind: "el7-supported"; release: string }
  | { kind: "other"; release: string };

/** Whether this kernel accepts cgroup.memory=nokmem, read from its release string. */
export function kernelSupport(release: string): KernelSupport {
  const m = release.match(/^3\.10\.0-(\d+)(?:\.(\d+))?(?:\.(\d+))?.*\.el7/);
  if (!m) return { kind: "other", release };
  const have = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  for (let i = 0; i < 3; i++) {
    if (have[i]! !== EL7_NOKMEM[i]) return { kind: have[i]! > EL7_NOKMEM[i]! ? "el7-supported" : "el7-too-old", release };
  }
  return { kind: "el7-supported", release };
}
