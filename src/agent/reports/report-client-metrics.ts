import { Counter, Gauge, type Registry } from "prom-client";
import { registeredMetric } from "../../util/registered-metric.js";

/** Why a delivery attempt failed (label `reason` of vmkeeper_agent_report_errors_total). */
export type ReportErrorReason = "connect" | "timeout" | "tls" | "unauthorized" | "rejected" | "too_large" | "server" | "token";

export interface ReportClientMetrics {
  sent(n: number): void;
  dropped(n: number): void;
  buffered(n: number): void;
  error(reason: ReportErrorReason): void;
}

/**
 * The agent's report-path series: `vmkeeper_agent_reports_sent_total`,
 * `vmkeeper_agent_reports_dropped_total` (buffer overflow or refused by the operator),
 * `vmkeeper_agent_reports_buffered` and `vmkeeper_agent_report_errors_total{reason}`.
 */
export function prometheusReportClientMetrics(registry: Registry): ReportClientMetrics {
  const counter = (name: string, help: string, labelNames: string[] = []): Counter =>
    registeredMetric(registry, name, () => new Counter({ name, help, labelNames, registers: [registry] }));
  const sent = counter("vmkeeper_agent_reports_sent_total", "Reports the operator acknowledged");
  const dropped = counter("vmkeeper_agent_reports_dropped_total", "Reports dropped: the buffer was full (oldest first) or the operator refused them");
  const errors = counter("vmkeeper_agent_report_errors_total", "Failed report deliveries, by reason", ["reason"]);
  const name = "vmkeeper_agent_reports_buffered";
  const buffered = registeredMetric(registry, name, () => new Gauge({ name, help: "Reports waiting for delivery to the operator", registers: [registry] }));
  return {
    sent: (n) => sent.inc(n),
    dropped: (n) => dropped.inc(n),
    buffered: (n) => buffered.set(n),
    error: (reason) => errors.inc({ reason }),
  };
}
