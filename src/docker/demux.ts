import type { Writable } from "node:stream";

const HEADER = 8;

/**
 * A container's attach stream, multiplexed by the engine (frames of an 8-byte header: stream type
 * 1 for stdout, 2 for stderr, three zero bytes, the payload's length big-endian; then the payload), split
 * into `stdout` and `stderr`, payloads passed on as slices of what arrived. Written here because
 * docker-modem's demuxStream copies all it holds on every frame: ~90 ms of CPU for each 10 MB
 * binary that came out, at the end of every build. A stream that is not multiplexed (a TTY) goes
 * to `stdout` as it is, as docker-modem does.
 */
export function demuxAttach(stream: NodeJS.ReadableStream, stdout: Writable, stderr: Writable): void {
  let header: Buffer = Buffer.alloc(0); // a header begun in an earlier chunk
  let into: Writable = stdout;
  let left = 0; // payload bytes of the current frame still to come
  const onData = (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (left > 0) {
        const n = Math.min(left, chunk.length - at);
        into.write(chunk.subarray(at, at + n));
        left -= n;
        at += n;
        continue;
      }
      const n = Math.min(HEADER - header.length, chunk.length - at);
      header = header.length ? Buffer.concat([header, chunk.subarray(at, at + n)]) : chunk.subarray(at, at + n);
      at += n;
      if (header.length < HEADER) return;
      const type = header[0]!;
      if (type > 2) {
        stream.off("data", onData);
        stdout.write(Buffer.concat([header, chunk.subarray(at)]));
        stream.on("data", (rest: Buffer) => stdout.write(rest));
        return;
      }
      into = type === 1 ? stdout : stderr;
      left = header.readUInt32BE(4);
      header = Buffer.alloc(0);
    }
  };
  stream.on("data", onData);
}
