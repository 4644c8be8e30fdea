import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { demuxAttach } from "./demux.js";

const frame = (type: number, payload: Buffer) => {
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

/** The stream cut into chunks at `cuts`, demultiplexed: what came out on each side. */
async function split(bytes: Buffer, cuts: number[]): Promise<{ out: Buffer; err: Buffer }> {
  const stream = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (b: Buffer) => out.push(b));
  stderr.on("data", (b: Buffer) => err.push(b));
  demuxAttach(stream, stdout, stderr);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    stream.write(bytes.subarray(at, cut));
    at = cut;
  }
  stream.end();
  await new Promise((resolve) => stream.on("end", resolve).resume());
  await new Promise((resolve) => setImmediate(resolve));
  return { out: Buffer.concat(out), err: Buffer.concat(err) };
}

describe("demuxAttach", () => {
  const a = Buffer.from("make: go build\n");
  const b = randomBytes(3000);
  const c = Buffer.from("warning: something\n");
  const stream = Buffer.concat([frame(2, a), frame(1, b.subarray(0, 1000)), frame(1, Buffer.alloc(0)), frame(2, c), frame(1, b.subarray(1000))]);

  it("sends each frame's payload to its side, wherever the chunks are cut (headers split too)", async () => {
    for (const size of [1, 3, 7, 8, 9, 512, 1023, stream.length]) {
      const cuts = Array.from({ length: Math.ceil(stream.length / size) - 1 }, (_, i) => (i + 1) * size);
      const { out, err } = await split(stream, cuts);
      expect(out.equals(b), `chunks of ${size}`).toBe(true);
      expect(err.toString()).toBe(`${a}${c}`);
    }
  });

  it("passes a large payload through byte for byte in the engine's chunk sizes", async () => {
    const big = randomBytes(5 * 2 ** 20 + 17);
    const framed = Buffer.concat([frame(1, big.subarray(0, 2 ** 20)), frame(1, big.subarray(2 ** 20))]);
    const cuts = Array.from({ length: Math.floor(framed.length / 65536) }, (_, i) => (i + 1) * 65536);
    const { out, err } = await split(framed, cuts);
    expect(out.equals(big)).toBe(true);
    expect(err.length).toBe(0);
  });

  it("gives a stream that is not multiplexed (a TTY's) to stdout as it came", async () => {
    const text = Buffer.from("Hello from a terminal\nsecond line\n");
    const { out, err } = await split(text, [3, 10, 11]);
    expect(out.toString()).toBe(text.toString());
    expect(err.length).toBe(0);
  });
});
