import { backoffDelayMs, parseRetryAfter, type RetryPolicy } from "../openstack/retry-policy.js";
import { PostError, type WebhookResponse } from "./http-poster.js";

/** First retry after about 1 s, doubling, each delay capped at 60 s (Retry-After too). */
export const WEBHOOK_BASE_DELAY_MS = 1000;
export const WEBHOOK_MAX_DELAY_MS = 60_000;

/** How one attempt ended, for metrics: `vmkeeper_notification_attempts_total{result}`. */
export type AttemptResult = "delivered" | "http_error" | "network_error" | "timeout" | "refused";

export type AttemptOutcome =
  | { kind: "delivered"; status: number }
  | { kind: "retry"; result: AttemptResult; error: string; status?: number; retryAfterMs?: number }
  | { kind: "permanent"; result: AttemptResult; error: string; status?: number };

/**
 * 2xx delivers. 408, 425, 429 and 5xx are retried (Retry-After honoured); a redirect is
 * never followed and, like any other 4xx, is final: the receiver said no, or the URL is
 * wrong, and asking again will not change that.
 */
export function classifyResponse(res: WebhookResponse, now: Date): AttemptOutcome {
  const status = res.status;
  if (status >= 200 && status < 300) return { kind: "delivered", status };
  if (status >= 300 && status < 400) {
    return { kind: "permanent", result: "http_error", status, error: `HTTP ${status}: redirect not followed (configure the final URL)` };
  }
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(res.headers["retry-after"], now);
    return { kind: "retry", result: "http_error", status, error: `HTTP ${status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  return { kind: "permanent", result: "http_error", status, error: `HTTP ${status}` };
}

/** No response: retried, except a URL that cannot work. */
export function classifyError(e: unknown): AttemptOutcome {
  if (!(e instanceof PostError)) return { kind: "retry", result: "network_error", error: "request failed" };
  if (e.kind === "invalid-url") return { kind: "permanent", result: "refused", error: e.message };
  if (e.kind === "timeout") return { kind: "retry", result: "timeout", error: e.message };
  return { kind: "retry", result: "network_error", error: e.message };
}

export interface BackoffSettings {
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_WEBHOOK_BACKOFF: BackoffSettings = { baseDelayMs: WEBHOOK_BASE_DELAY_MS, maxDelayMs: WEBHOOK_MAX_DELAY_MS };

/**
 * Delay before retry number `retry` (1-based): base·2^(retry-1) capped, with equal jitter
 * (half fixed, half random); a Retry-After is waited at least, up to the same cap.
 */
export function retryDelayMs(retry: number, random: () => number, retryAfterMs?: number, backoff: BackoffSettings = DEFAULT_WEBHOOK_BACKOFF): number {
  const policy: RetryPolicy = { maxAttempts: Number.MAX_SAFE_INTEGER, ...backoff };
  return backoffDelayMs(policy, retry, random, retryAfterMs);
}

/** Why a URL is refused before any request (https unless allowHTTP; http(s) only). */
export function urlProblem(url: string, allowHTTP: boolean): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "webhook URL is not a valid URL";
  }
  if (u.protocol === "https:") return undefined;
  if (u.protocol === "http:") return allowHTTP ? undefined : "webhook URL must use https:// (set allowHTTP only in labs)";
  return `webhook URL scheme ${u.protocol} is not supported`;
}

/** Scheme, host and port: all that is safe to log of a webhook URL (paths carry tokens). */
export function endpointOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}
