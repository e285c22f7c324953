/** The largest line either side accepts, not counting the newline (docs/protocols/guest-heartbeat.md). */
export const MAX_LINE_BYTES = 4096;

/** One unit out of the framer: a complete line, or the notice that an over-long line was discarded. */
export type Frame = { kind: "line"; line: Buffer } | { kind: "oversize" };

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into newline-terminated lines of at most `maxBytes`. An over-long
 * line is reported once, when it crosses the limit, and discarded up to the next newline;
 * the buffer never holds more than `maxBytes`. Blank lines are skipped; a trailing CR is
 * dropped.
 */
export class LineFramer {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  push(chunk: Uint8Array): Frame[] {
    const out: Frame[] = [];
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (data.length > 0) {
      const nl = data.indexOf(NEWLINE);
      const part = nl >= 0 ? data.subarray(0, nl) : data;
      data = nl >= 0 ? data.subarray(nl + 1) : Buffer.alloc(0);
      this.accumulate(part, out);
      if (nl >= 0) this.endLine(out);
    }
    return out;
  }

  private accumulate(part: Buffer, out: Frame[]): void {
    if (this.discarding) return;
    if (this.size + part.length > this.maxBytes) {
      out.push({ kind: "oversize" });
      this.reset();
      this.discarding = true;
      return;
    }
    this.parts.push(Buffer.from(part));
    this.size += part.length;
  }

  private endLine(out: Frame[]): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    let line = Buffer.concat(this.parts, this.size);
    this.reset();
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (!/^[ \t\r\v\f]*$/.test(line.toString("latin1"))) out.push({ kind: "line", line });
  }

  private reset(): void {
    this.parts = [];
    this.size = 0;
  }
}
