export type { RateLimiter } from "./rate-limiter.js";
export { ItemExponentialFailureRateLimiter } from "./item-exponential-failure-rate-limiter.js";
export { BucketRateLimiter } from "./bucket-rate-limiter.js";
export { MaxOfRateLimiter } from "./max-of-rate-limiter.js";
export { defaultControllerRateLimiter } from "./default-controller-rate-limiter.js";
export { noopWorkQueueMetrics, type WorkQueueMetrics } from "./work-queue-metrics.js";
export { prometheusWorkQueueMetrics } from "./prometheus-work-queue-metrics.js";
export { WorkQueue, type WorkQueueOptions } from "./work-queue.js";
