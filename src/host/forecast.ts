/**
 * The leak forecast: from successive samples of the kernel's memory cgroup
 * count and the directories present, how fast IDs leak and when the count
 * reaches the limit (after which creating a memory cgroup fails: new pods
 * fail to start). Pure functions; the caller keeps the samples (a state file,
 * or memory when serving).
 */

/** The memory controller's ID space on cgroup v1: the kernel refuses new memory cgroups beyond it. */
export const MEMORY_CGROUP_LIMIT = 65535;

export interface Sample {
  /** Milliseconds since the epoch. */
  time: number;
  counted: number;
  present: number;
  /** /proc/sys/kernel/random/boot_id, when the node has one. */
  bootId?: string;
}

export interface Forecast {
  /** Samples in the current series (since the last reboot seen). */
  samples: number;
  /** Hours the current series spans. */
  hours: number;
  /** Leaked cgroups (counted − present) gained per hour, by least squares; null until the series spans MIN_SPAN_HOURS. */
  leakRatePerHour: number | null;
  /** Seconds until counted reaches the limit at that rate; null when nothing leaks (or no rate yet). */
  secondsUntilLimit: number | null;
}

/** How much history a series keeps: enough for a slope over days, small enough for a state file. */
export const WINDOW = { maxSamples: 288, maxAgeMs: 7 * 24 * 3600_000 } as const;

/** A rate from seconds of pod churn would say nothing: the series must span this long first. */
export const MIN_SPAN_HOURS = 0.25;

const leaked = (s: Sample) => Math.max(0, s.counted - s.present);

/**
 * Whether `next` starts a new series after `prev`: the boot id changed, or the
 * kernel's count fell sharply (a reboot on a node without a boot id: leaked IDs
 * only ever come back by rebooting), or time ran backwards.
 */
export function isNewSeries(prev: Sample, next: Sample): boolean {
  if (prev.bootId && next.bootId && prev.bootId !== next.bootId) return true;
  if (next.time <= prev.time) return true;
  const drop = prev.counted - next.counted;
  return drop > 0 && drop >= prev.counted / 2 && leaked(next) < leaked(prev) / 2;
}

/** The samples since the last reboot seen, oldest first. */
export function currentSeries(samples: readonly Sample[]): Sample[] {
  let start = 0;
  for (let i = 1; i < samples.length; i++) if (isNewSeries(samples[i - 1]!, samples[i]!)) start = i;
  return samples.slice(start);
}

/** Appends a sample and keeps only the current series, within the window. */
export function addSample(samples: readonly Sample[], sample: Sample, window: { maxSamples: number; maxAgeMs: number } = WINDOW): Sample[] {
  const series = currentSeries([...samples, sample]);
  return series.filter((s) => sample.time - s.time <= window.maxAgeMs).slice(-window.maxSamples);
}

/** Least-squares slope of leaked cgroups over hours; null unless two samples at different times. */
function slopePerHour(series: readonly Sample[]): number | null {
  if (series.length < 2) return null;
  const t0 = series[0]!.time;
  const xs = series.map((s) => (s.time - t0) / 3600_000);
  const ys = series.map(leaked);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  return sxx > 0 ? sxy / sxx : null;
}

/** The forecast from a list of samples (any history: only the current series counts). */
export function forecast(samples: readonly Sample[], limit = MEMORY_CGROUP_LIMIT): Forecast {
  const series = currentSeries(samples);
  const last = series.at(-1);
  const hours = series.length ? (last!.time - series[0]!.time) / 3600_000 : 0;
  const slope = hours >= MIN_SPAN_HOURS ? slopePerHour(series) : null;
  const rate = slope === null ? null : Math.max(0, slope);
  // Counted grows as leaked does while the live cgroups stay about the same.
  const secondsUntilLimit = rate && last ? (Math.max(0, limit - last.counted) / rate) * 3600 : null;
  return { samples: series.length, hours, leakRatePerHour: rate, secondsUntilLimit };
}

/** "about N days" (or hours), for the doctor line. */
export function describeForecast(f: Forecast): string | undefined {
  if (f.leakRatePerHour === null) return undefined;
  if (f.secondsUntilLimit === null) return `no leak over the last ${f.hours.toFixed(1)} h (${f.samples} samples)`;
  const days = f.secondsUntilLimit / 86400;
  const hours = f.secondsUntilLimit / 3600;
  const when =
    f.secondsUntilLimit === 0
      ? "has reached the limit"
      : days >= 2
        ? `reaches the limit in about ${Math.round(days)} days`
        : hours >= 2
          ? `reaches the limit in about ${Math.round(hours)} hours`
          : `reaches the limit in about ${Math.max(1, Math.round(f.secondsUntilLimit / 60))} minutes`;
  return `leaking ${f.leakRatePerHour.toFixed(1)} memory cgroups per hour over ${f.hours.toFixed(1)} h (${f.samples} samples): at the current rate this node ${when}`;
}
