import { abortReason, type Clock } from "./clock.js";

interface Sleeper {
  wakeAt: number;
  resolve: () => void;
  reject: (e: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * A virtual clock for tests: time moves only when `advance` is called, and sleepers whose
 * deadline has passed are woken in deadline order.
 */
export class FakeClock implements Clock {
  private ms: number;
  private readonly epochMs: number;
  private sleepers: Sleeper[] = [];

  constructor(start = new Date("2026-01-01T00:00:00Z")) {
    this.epochMs = start.getTime();
    this.ms = 0;
  }

  now(): Date {
    return new Date(this.epochMs + this.ms);
  }

  monotonicMs(): number {
    return this.ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const sleeper: Sleeper = {
        wakeAt: this.ms + Math.max(0, ms),
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(abortReason(signal));
        },
      };
      signal?.addEventListener("abort", sleeper.onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  schedule(ms: number, fn: () => void): () => void {
    const cancel = new AbortController();
    this.sleep(ms, cancel.signal).then(fn, () => undefined);
    return () => cancel.abort();
  }

  /** Number of pending sleepers, for tests that wait for a component to go idle. */
  pendingSleepers(): number {
    return this.sleepers.length;
  }

  /** Moves time forward, waking due sleepers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.ms + ms;
    for (;;) {
      this.sleepers.sort((a, b) => a.wakeAt - b.wakeAt);
      const next = this.sleepers[0];
      if (!next || next.wakeAt > target) break;
      this.sleepers.shift();
      this.ms = Math.max(this.ms, next.wakeAt);
      next.signal?.removeEventListener("abort", next.onAbort);
      next.resolve();
      await flushMicrotasks();
    }
    this.ms = target;
    await flushMicrotasks();
  }
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
}
