/**
 * Caps fencing operations in flight per HostFencing (`spec.maxConcurrentFencing`): a storm
 * of failures must not have one operator hammer every BMC of a rack at once, and a slow
 * device must not starve the others beyond the cap. Waiters are served in arrival order.
 */
export class FencingSlots {
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  async acquire(key: string, limit: number, signal: AbortSignal): Promise<() => void> {
    while ((this.inFlight.get(key) ?? 0) >= limit) {
      await new Promise<void>((resolve, reject) => {
        const queue = this.waiting.get(key) ?? [];
        const wake = (): void => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const q = this.waiting.get(key) ?? [];
          this.waiting.set(key, q.filter((w) => w !== wake));
          reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        };
        queue.push(wake);
        this.waiting.set(key, queue);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
      this.waiting.get(key)?.shift()?.();
    };
  }

  active(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }
}
