/**
 * A FIFO with a capacity. When full, `push` makes room by dropping the oldest item that
 * `expendable` accepts, or else the oldest item of all, and returns what it dropped. Pure
 * data structure, no timers; O(n) only on overflow.
 */
export class BoundedQueue<T> {
  private items: T[] = [];

  constructor(
    readonly capacity: number,
    private readonly expendable: (item: T) => boolean = () => true,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`queue capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.items.length;
  }

  /** Appends; returns the dropped item when the queue was full. */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.items.length >= this.capacity) {
      const i = this.items.findIndex(this.expendable);
      dropped = this.items.splice(i >= 0 ? i : 0, 1)[0];
    }
    this.items.push(item);
    return dropped;
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  some(pred: (item: T) => boolean): boolean {
    return this.items.some(pred);
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const all = this.items;
    this.items = [];
    return all;
  }
}
