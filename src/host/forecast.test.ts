import { describe, expect, it } from "vitest";
import { MEMORY_CGROUP_LIMIT, addSample, currentSeries, describeForecast, forecast, type Sample } from "./forecast.js";

const H = 3600_000;
const t0 = Date.UTC(2026, 10, 1);
const boot = "8c1f9a7e-2d4b-4c3a-9e51-0f6d2b7a1c11";

/** Hourly samples from a leaking el7 node: ~120 leaked per hour, live cgroups wobbling around 180. */
const steady: Sample[] = [
  [0, 30120, 178], [1, 30245, 181], [2, 30358, 175], [3, 30482, 180], [4, 30601, 179], [5, 30719, 176], [6, 30843, 182],
].map(([h, counted, present]) => ({ time: t0 + h! * H, counted: counted!, present: present!, bootId: boot }));

describe("forecast", () => {
  it("a steady leak: the least-squares rate, and the time until the count reaches 65535", () => {
    const f = forecast(steady);
    expect(f.samples).toBe(7);
    expect(f.hours).toBe(6);
    expect(f.leakRatePerHour).toBeGreaterThan(118);
    expect(f.leakRatePerHour).toBeLessThan(122);
    const expected = ((MEMORY_CGROUP_LIMIT - 30843) / f.leakRatePerHour!) * 3600;
    expect(f.secondsUntilLimit).toBeCloseTo(expected, 6);
    // ~289 hours: about 12 days.
    expect(describeForecast(f)).toMatch(/at the current rate this node reaches the limit in about 12 days$/);
  });

  it("no leak: counted follows the directories up and down; no time until the limit", () => {
    const series: Sample[] = [
      [0, 210, 209], [1, 260, 259], [2, 190, 189], [3, 240, 239], [4, 205, 204],
    ].map(([h, counted, present]) => ({ time: t0 + h! * H, counted: counted!, present: present! }));
    const f = forecast(series);
    expect(f.leakRatePerHour).toBe(0);
    expect(f.secondsUntilLimit).toBeNull();
    expect(describeForecast(f)).toMatch(/^no leak over the last 4\.0 h \(5 samples\)/);
  });

  it("one sample, or none: no rate yet", () => {
    expect(forecast([]).leakRatePerHour).toBeNull();
    expect(forecast(steady.slice(0, 1))).toMatchObject({ samples: 1, leakRatePerHour: null, secondsUntilLimit: null });
    expect(describeForecast(forecast(steady.slice(0, 1)))).toBeUndefined();
    // Two samples minutes apart: pod churn, not a rate.
    const close = [steady[0]!, { ...steady[1]!, time: t0 + 5 * 60_000 }];
    expect(forecast(close)).toMatchObject({ samples: 2, leakRatePerHour: null, secondsUntilLimit: null });
  });

  it("says hours, then minutes, as the limit comes near", () => {
    const near = (counted: number): Sample[] => [
      { time: t0, counted: counted - 600, present: 100 },
      { time: t0 + H, counted, present: 100 },
    ];
    expect(describeForecast(forecast(near(65535 - 1800)))).toMatch(/in about 3 hours$/);
    expect(describeForecast(forecast(near(65535 - 300)))).toMatch(/in about 30 minutes$/);
    expect(describeForecast(forecast(near(65600)))).toMatch(/this node has reached the limit$/);
  });

  it("a reboot in between (new boot id): only the series since it counts", () => {
    const after: Sample[] = [
      { time: t0 + 7 * H, counted: 400, present: 180, bootId: "new-boot" },
      { time: t0 + 8 * H, counted: 460, present: 180, bootId: "new-boot" },
      { time: t0 + 9 * H, counted: 520, present: 180, bootId: "new-boot" },
    ];
    expect(currentSeries([...steady, ...after])).toEqual(after);
    const f = forecast([...steady, ...after]);
    expect(f).toMatchObject({ samples: 3, hours: 2 });
    expect(f.leakRatePerHour).toBeCloseTo(60, 9);
    expect(f.secondsUntilLimit).toBeCloseTo(((MEMORY_CGROUP_LIMIT - 520) / 60) * 3600, 6);
  });

  it("a reboot without a boot id: the count falling sharply starts a new series; a small dip does not", () => {
    const noId = steady.map(({ bootId: _b, ...s }) => s);
    const rebooted = [...noId, { time: t0 + 7 * H, counted: 300, present: 170 }, { time: t0 + 8 * H, counted: 330, present: 170 }];
    expect(forecast(rebooted)).toMatchObject({ samples: 2 });
    expect(forecast(rebooted).leakRatePerHour).toBeCloseTo(30, 9);
    const dip = [...noId, { time: t0 + 7 * H, counted: 30700, present: 120 }];
    expect(forecast(dip).samples).toBe(8);
  });

  it("addSample keeps the current series within the window", () => {
    let kept: Sample[] = [];
    for (const s of steady) kept = addSample(kept, s, { maxSamples: 4, maxAgeMs: 100 * H });
    expect(kept).toEqual(steady.slice(-4));
    expect(addSample(steady, { ...steady[6]!, time: t0 + 30 * H }, { maxSamples: 100, maxAgeMs: 24 * H }).map((s) => s.time)).toEqual([t0 + 6 * H, t0 + 30 * H]);
    expect(addSample(steady, { time: t0 + 7 * H, counted: 100, present: 90, bootId: "other" })).toHaveLength(1);
  });
});
