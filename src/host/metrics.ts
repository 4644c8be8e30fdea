import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomically } from "../fs/atomic.js";
import type { DoctorReport } from "./doctor.js";
import { MEMORY_CGROUP_LIMIT, type Forecast, type Sample } from "./forecast.js";

/**
 * The fleet view: doctor's report as Prometheus gauges. The metric names are
 * an interface (dashboards and alerts use them): keep them.
 */
export async function renderMetrics(report: DoctorReport, fc: Forecast | undefined): Promise<string> {
  // Loaded here, not at start-up: every other command (a build first of all) would pay for it.
  const { Gauge, Registry } = await import("prom-client");
  const registry = new Registry();
  // A gauge is registered only when there is a value: an unset unlabelled gauge would read 0.
  const gauge = (name: string, help: string, value: number | null | undefined) => {
    if (value === null || value === undefined || Number.isNaN(value)) return;
    new Gauge({ name, help, registers: [registry] }).set(value);
  };
  gauge("nokmem_memory_cgroups_counted", "Memory cgroups the kernel counts (num_cgroups of memory in /proc/cgroups), dying ones included", report.memoryCgroups?.counted);
  gauge("nokmem_memory_cgroups_present", "Memory cgroup directories present under /sys/fs/cgroup/memory, the root included", report.memoryCgroups?.present);
  gauge("nokmem_memory_cgroups_limit", "Memory cgroups the kernel allows (cgroup v1 ID space): creating more fails, and new pods with it", MEMORY_CGROUP_LIMIT);
  gauge("nokmem_kmem_active", "1 if kernel-memory accounting is active under kubepods (memory.kmem.slabinfo readable or pods charged kmem)", report.kmemActive === null ? undefined : Number(report.kmemActive));
  gauge("nokmem_kernel_nokmem_option", "1 if the kernel honours cgroup.memory=nokmem and runs with it", Number(report.kernelNokmem));
  const judged = report.binaries.filter((b) => b.kmem !== null);
  if (judged.length) {
    const g = new Gauge({ name: "nokmem_binary_kmem_enabled", help: "1 if this runc or kubelet enables kmem accounting (verify's verdict from the binary)", labelNames: ["component", "path"] as const, registers: [registry] });
    for (const b of judged) g.set({ component: b.component, path: b.path }, b.kmem === "on" ? 1 : 0);
  }
  gauge("nokmem_memory_cgroups_leak_rate_per_hour", "Leaked memory cgroups (counted - present) gained per hour since the last reboot, least squares over the samples", fc?.leakRatePerHour);
  gauge("nokmem_memory_cgroups_seconds_until_limit", "Seconds until the counted memory cgroups reach the limit at the current leak rate (absent when nothing leaks)", fc?.secondsUntilLimit);
  const text = await registry.metrics();
  // The exposition format ends every line, the last one too, with a line feed.
  return text.endsWith("\n") ? text : `${text}\n`;
}

/** Writes `text` to `file` for node_exporter's textfile collector: a temporary file beside it, then one rename. */
export const writeAtomically = (file: string, text: string) => writeFileAtomically(file, text);

/** The node's boot id under `root`, if it has one: a changed id means a reboot. */
export const readBootId = (root: string) =>
  readFile(path.join(root, "proc/sys/kernel/random/boot_id"), "utf8").then((t) => t.trim() || undefined, () => undefined);

/** A sample of the report, or none when the node has no v1 memory cgroup count. */
export const sampleOf = (report: DoctorReport, time: number, bootId: string | undefined): Sample | undefined =>
  report.memoryCgroups ? { time, counted: report.memoryCgroups.counted, present: report.memoryCgroups.present, ...(bootId ? { bootId } : {}) } : undefined;
