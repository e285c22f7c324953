/** A timed action of the simulation: due at `dueMs` on the model's monotonic clock. */
export interface SimEvent {
  dueMs: number;
  seq: number;
  run: (atMs: number) => void;
}

/**
 * Min-heap of events ordered by due time, then by insertion order, so that events due at the
 * same instant run in the order they were scheduled (determinism on a virtual clock).
 */
export class EventQueue {
  private heap: SimEvent[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(dueMs: number, run: (atMs: number) => void): void {
    this.heap.push({ dueMs, seq: this.seq++, run });
    this.up(this.heap.length - 1);
  }

  peekDue(): number | undefined {
    return this.heap[0]?.dueMs;
  }

  /** Removes and returns the earliest event if it is due at or before `nowMs`. */
  popDue(nowMs: number): SimEvent | undefined {
    const top = this.heap[0];
    if (!top || top.dueMs > nowMs) return undefined;
    const last = this.heap.pop();
    if (last && this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a];
    const y = this.heap[b];
    if (!x || !y) return false;
    return x.dueMs < y.dueMs || (x.dueMs === y.dueMs && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    const x = this.heap[a];
    const y = this.heap[b];
    if (!x || !y) return;
    this.heap[a] = y;
    this.heap[b] = x;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.heap.length && this.less(l, m)) m = l;
      if (r < this.heap.length && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
