interface Entry {
  key: string;
  readyAtMs: number;
  /** Insertion order, to break ties between keys that become ready at the same time. */
  seq: number;
}

/**
 * Keys waiting for a moment on the monotonic clock, at most one entry per key. A min-heap
 * ordered by (ready time, insertion) with a position index so that moving a key to an
 * earlier time is O(log n).
 */
export class DelayedKeys {
  private readonly heap: Entry[] = [];
  private readonly positions = new Map<string, number>();
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `key` at `readyAtMs`; if it is already waiting, the earlier time wins. */
  upsert(key: string, readyAtMs: number): void {
    const position = this.positions.get(key);
    if (position === undefined) {
      this.heap.push({ key, readyAtMs, seq: this.nextSeq++ });
      this.positions.set(key, this.heap.length - 1);
      this.siftUp(this.heap.length - 1);
      return;
    }
    const entry = this.at(position);
    if (readyAtMs < entry.readyAtMs) {
      entry.readyAtMs = readyAtMs;
      this.siftUp(position);
    }
  }

  /** The earliest ready time, if any key is waiting. */
  nextReadyAtMs(): number | undefined {
    return this.heap[0]?.readyAtMs;
  }

  /** Removes and returns, in order, every key whose time is at or before `nowMs`. */
  popReady(nowMs: number): string[] {
    const ready: string[] = [];
    for (let top = this.heap[0]; top !== undefined && top.readyAtMs <= nowMs; top = this.heap[0]) {
      ready.push(top.key);
      this.removeTop();
    }
    return ready;
  }

  clear(): void {
    this.heap.length = 0;
    this.positions.clear();
  }

  private removeTop(): void {
    const top = this.at(0);
    const last = this.heap.pop();
    this.positions.delete(top.key);
    if (last === undefined || last === top) return;
    this.heap[0] = last;
    this.positions.set(last.key, 0);
    this.siftDown(0);
  }

  private at(i: number): Entry {
    const entry = this.heap[i];
    if (entry === undefined) throw new Error(`DelayedKeys: no entry at ${i}`);
    return entry;
  }

  private before(a: Entry, b: Entry): boolean {
    return a.readyAtMs < b.readyAtMs || (a.readyAtMs === b.readyAtMs && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const a = this.at(i);
    const b = this.at(j);
    this.heap[i] = b;
    this.heap[j] = a;
    this.positions.set(b.key, i);
    this.positions.set(a.key, j);
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(this.at(i), this.at(parent))) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    for (;;) {
      let smallest = i;
      for (const child of [2 * i + 1, 2 * i + 2]) {
        if (child < this.heap.length && this.before(this.at(child), this.at(smallest))) smallest = child;
      }
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
