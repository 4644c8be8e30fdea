import { describe, expect, it } from "vitest";
import { Turns } from "./turns.js";

/** Whether a promise has settled, after the callbacks queued so far have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe("Turns: one holder at a time per key", () => {
  it("gives a free key at once, and the next asker waits for the holder, who it names", async () => {
    const turns = new Turns();
    const first = turns.ask("cache-a", "runc v1.0.0-rc9");
    const second = turns.ask("cache-a", "runc v1.0.0-rc10");
    expect(first.after).toBeUndefined();
    expect(await settled(first.ready)).toBe(true);
    expect(second.after).toBe("runc v1.0.0-rc9");
    expect(await settled(second.ready)).toBe(false);
    first.end();
    expect(await settled(second.ready)).toBe(true);
  });

  it("keeps keys apart: another key's asker never waits", async () => {
    const turns = new Turns();
    turns.ask("cache-a", "runc v1.0.0-rc9");
    const other = turns.ask("cache-b", "kubelet v1.18.6");
    expect(other.after).toBeUndefined();
    expect(await settled(other.ready)).toBe(true);
  });

  it("serves in the order asked, and one that gives up before its turn does not let the next in beside the holder", async () => {
    const turns = new Turns();
    const first = turns.ask("k", "a");
    const second = turns.ask("k", "b");
    const third = turns.ask("k", "c");
    expect(third.after).toBe("b");
    second.end(); // interrupted while waiting
    expect(await settled(third.ready)).toBe(false);
    first.end();
    expect(await settled(third.ready)).toBe(true);
  });

  it("frees a key once its last holder is done, and ending twice changes nothing", async () => {
    const turns = new Turns();
    const only = turns.ask("k", "a");
    only.end();
    only.end();
    await settled(only.ready);
    const later = turns.ask("k", "b");
    expect(later.after).toBeUndefined();
    expect(await settled(later.ready)).toBe(true);
  });
});
