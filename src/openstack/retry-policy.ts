export interface RetryPolicy {
  /** Attempts in all, first included (default 4). */
  maxAttempts: number;
  /** Delay before the first retry, before jitter (default 500 ms). */
  baseDelayMs: number;
  /** Cap of one delay, also applied to Retry-After (default 10 s). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 10_000 };

/**
 * Capped exponential backoff with "equal jitter": half the delay is fixed, half random, so
 * retries of many callers spread out but never come back immediately. `retryAfterMs`
 * (from a 413/429/503 Retry-After) is honoured up to the cap. `random` is in [0, 1).
 */
export function backoffDelayMs(policy: RetryPolicy, retryNumber: number, random: () => number, retryAfterMs?: number): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retryNumber - 1));
  const jittered = exp / 2 + (exp / 2) * random();
  const wanted = retryAfterMs !== undefined ? Math.max(jittered, retryAfterMs) : jittered;
  return Math.round(Math.min(policy.maxDelayMs, wanted));
}

/** Retry-After as delta-seconds or an HTTP date, in ms from `now`. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
