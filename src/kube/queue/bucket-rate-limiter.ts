import type { Clock } from "../../util/clock.js";
import type { RateLimiter } from "./rate-limiter.js";

/**
 * One token bucket shared by all keys (`qps` tokens per second, at most `burst` stored),
 * with reservation semantics like Go's `rate.Limiter.Reserve`: every call takes a token
 * at once, letting the balance go negative, and returns how long the caller must wait
 * until that token would have existed. So after the burst, retries are spaced 1/qps apart
 * however many arrive at once, which caps the overall retry rate of a controller.
 */
export class BucketRateLimiter implements RateLimiter {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly qps = 10,
    private readonly burst = 100,
  ) {
    if (!(qps > 0) || !Number.isFinite(qps)) throw new RangeError("BucketRateLimiter: qps must be a positive finite number");
    if (!(burst >= 1)) throw new RangeError("BucketRateLimiter: burst must be at least 1");
    this.tokens = burst;
    this.lastMs = clock.monotonicMs();
  }

  when(_key: string): number {
    const now = this.clock.monotonicMs();
    // A monotonic clock never goes back, but guard anyway so tokens are never lost.
    const elapsedMs = Math.max(0, now - this.lastMs);
    this.lastMs = Math.max(this.lastMs, now);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.qps) / 1000);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  /** The bucket is not per key: nothing to forget. */
  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}
