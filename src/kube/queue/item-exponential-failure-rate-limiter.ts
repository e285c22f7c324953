import type { RateLimiter } from "./rate-limiter.js";

/**
 * Per-key exponential backoff: the n-th consecutive failure of a key (n from 0) waits
 * `baseDelayMs * 2^n`, capped at `maxDelayMs`. Defaults match client-go's controller
 * limiter: 5 ms doubling up to 1000 s.
 */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseDelayMs = 5,
    private readonly maxDelayMs = 1_000_000,
  ) {
    if (!(baseDelayMs >= 0) || !(maxDelayMs >= 0)) {
      throw new RangeError("ItemExponentialFailureRateLimiter: delays must be non-negative numbers");
    }
  }

  when(key: string): number {
    const exponent = this.failures.get(key) ?? 0;
    this.failures.set(key, exponent + 1);
    if (this.baseDelayMs === 0) return 0;
    // 2 ** exponent becomes Infinity past 1023 failures; the cap also absorbs that overflow.
    const backoff = this.baseDelayMs * 2 ** exponent;
    return Number.isFinite(backoff) ? Math.min(backoff, this.maxDelayMs) : this.maxDelayMs;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}
