/**
 * Time behind an interface so that every duration-based decision can be tested on a
 * virtual clock. `monotonicMs` is used for durations (immune to wall-clock jumps, F17);
 * `now` only for timestamps that people read or that go to the API server.
 */
export interface Clock {
  /** Wall-clock time, for timestamps written to the API. */
  now(): Date;
  /** Monotonic milliseconds, for measuring durations and deadlines. */
  monotonicMs(): number;
  /** Resolves after `ms` (on this clock), or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `fn` after `ms` (on this clock) unless the returned cancel function ran first. The
   * cheap form of `sleep` for hot paths (a timer per guest heartbeat deadline): no promise,
   * no AbortSignal.
   */
  schedule(ms: number, fn: () => void): () => void;
}

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }

  monotonicMs(): number {
    return performance.now();
  }

  schedule(ms: number, fn: () => void): () => void {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error("aborted");
}
