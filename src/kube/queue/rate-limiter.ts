/**
 * Decides how long a key waits before it is retried. Mirrors client-go's
 * `workqueue.TypedRateLimiter`: `when` is called once per failure and records it.
 */
export interface RateLimiter {
  /** Delay in milliseconds before `key` may be processed again; records one more failure. */
  when(key: string): number;
  /** Stops tracking `key`: its next failure starts from the initial delay again. */
  forget(key: string): void;
  /** How many times `key` has been requeued by this limiter since the last `forget`. */
  numRequeues(key: string): number;
}
