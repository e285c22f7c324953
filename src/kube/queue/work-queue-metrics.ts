/**
 * What a `WorkQueue` reports, in the shape of client-go's queue metrics provider.
 * Durations are in milliseconds; a Prometheus implementation converts to seconds.
 */
export interface WorkQueueMetrics {
  /** A key entered the queue (duplicates that collapse are not counted). */
  add(): void;
  /** A key was handed out by `get()` after waiting `waitedMs` in the queue. */
  get(waitedMs: number): void;
  /** A key was marked done after being processed for `workedMs`. */
  done(workedMs: number): void;
  /** A key was requeued with rate limiting (a retry after a failure). */
  retry(): void;
  /** Number of keys waiting to be processed. */
  depth(n: number): void;
  /** Sum of the running times of all in-flight keys, and the longest of them. */
  unfinished(totalWorkMs: number, longestMs: number): void;
}

/** Metrics that go nowhere, for queues nobody scrapes. */
export function noopWorkQueueMetrics(): WorkQueueMetrics {
  return {
    add: () => {},
    get: () => {},
    done: () => {},
    retry: () => {},
    depth: () => {},
    unfinished: () => {},
  };
}
