import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { AttemptResult } from "./delivery-policy.js";

export type NotificationResult = "delivered" | "failed" | "dropped";

/** What the notifiers report; one instance is shared by every notifier of the process. */
export interface NotificationMetrics {
  /** An event's final outcome; `seconds` (enqueue → 2xx) only for delivered. */
  finished(result: NotificationResult, seconds?: number): void;
  attempt(result: AttemptResult): void;
  /** Events held (waiting or in delivery) changed by `delta`, summed over all endpoints. */
  queueDepth(delta: number): void;
}

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function prometheusNotificationMetrics(registry: Registry): NotificationMetrics {
  const total = getOrCreate(registry, "vmkeeper_notifications_total", () =>
    new Counter({ name: "vmkeeper_notifications_total", help: "Webhook notifications by final result (delivered, failed after retries or refused, dropped from a full queue or at shutdown)", labelNames: ["result"], registers: [registry] }));
  const attempts = getOrCreate(registry, "vmkeeper_notification_attempts_total", () =>
    new Counter({ name: "vmkeeper_notification_attempts_total", help: "Webhook POST attempts by result (delivered, http_error, network_error, timeout, refused)", labelNames: ["result"], registers: [registry] }));
  const seconds = getOrCreate(registry, "vmkeeper_notification_delivery_seconds", () =>
    new Histogram({
      name: "vmkeeper_notification_delivery_seconds",
      help: "Time from enqueue to the receiver's 2xx, retries included",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers: [registry],
    }));
  const depth = getOrCreate(registry, "vmkeeper_notification_queue_depth", () =>
    new Gauge({ name: "vmkeeper_notification_queue_depth", help: "Webhook notifications not yet delivered, failed or dropped (waiting or in delivery), all endpoints", registers: [registry] }));
  for (const result of ["delivered", "failed", "dropped"]) total.inc({ result }, 0);
  return {
    finished(result, s) {
      total.inc({ result });
      if (result === "delivered" && s !== undefined) seconds.observe(s);
    },
    attempt(result) {
      attempts.inc({ result });
    },
    queueDepth(delta) {
      if (delta >= 0) depth.inc(delta);
      else depth.dec(-delta);
    },
  };
}

export function noopNotificationMetrics(): NotificationMetrics {
  return { finished: () => undefined, attempt: () => undefined, queueDepth: () => undefined };
}
