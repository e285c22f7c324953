import type { Clock } from "../../util/clock.js";
import { BucketRateLimiter } from "./bucket-rate-limiter.js";
import { ItemExponentialFailureRateLimiter } from "./item-exponential-failure-rate-limiter.js";
import { MaxOfRateLimiter } from "./max-of-rate-limiter.js";
import type { RateLimiter } from "./rate-limiter.js";

/**
 * client-go's `DefaultControllerRateLimiter`: per-key backoff from 5 ms to 1000 s, and an
 * overall budget of 10 retries per second with a burst of 100 so that a mass failure
 * (an unreachable API) does not turn into a retry storm.
 */
export function defaultControllerRateLimiter(clock: Clock): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialFailureRateLimiter(5, 1_000_000),
    new BucketRateLimiter(clock, 10, 100),
  );
}
