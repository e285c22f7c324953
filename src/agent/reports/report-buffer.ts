import type { AgentReport } from "./agent-report.js";

/** A buffered report with its place in the sequence (for in-order delivery). */
export interface BufferedReport {
  seq: number;
  report: AgentReport;
}

/**
 * The report client's bounded FIFO. Reports stay until the operator acknowledged them; when
 * full, the oldest are dropped (and the caller counts them). Sequence numbers let a batch in
 * flight be acknowledged even if some of it was dropped meanwhile. Pure data structure.
 */
export class ReportBuffer {
  private items: BufferedReport[] = [];
  private nextSeq = 1;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`report buffer capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.items.length;
  }

  /** Appends; returns how many of the oldest reports were dropped to make room (0 or 1). */
  push(report: AgentReport): number {
    let dropped = 0;
    if (this.items.length >= this.capacity) {
      this.items.shift();
      dropped = 1;
    }
    this.items.push({ seq: this.nextSeq++, report });
    return dropped;
  }

  /** The oldest `max` reports, left in the buffer. */
  peek(max: number): BufferedReport[] {
    return this.items.slice(0, max);
  }

  /** Removes every report up to and including `seq` (acknowledged by the operator); returns how many. */
  ack(seq: number): number {
    const before = this.items.length;
    this.items = this.items.filter((b) => b.seq > seq);
    return before - this.items.length;
  }
}
