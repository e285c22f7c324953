import { Counter, type Registry } from "prom-client";
import { registeredMetric } from "../util/registered-metric.js";

export interface ReceiverMetrics {
  /** kind: DomainEvent, GuestHealth, ProcessHealth or Unknown; result: Accepted, Stale, or a ReportErrorCode. */
  received(kind: string, result: string): void;
  /** A request refused as a whole: Unauthorized, TooLarge, BadRequest, NotFound, MethodNotAllowed. */
  refused(reason: string): void;
}

/** `vmkeeper_agent_reports_received_total{kind,result}` and `vmkeeper_agent_report_requests_refused_total{reason}`. */
export function prometheusReceiverMetrics(registry: Registry): ReceiverMetrics {
  const name = "vmkeeper_agent_reports_received_total";
  const received = registeredMetric(registry, name, () => new Counter({ name, help: "Agent reports received, by kind and result (Accepted, Stale, or why it was dropped)", labelNames: ["kind", "result"], registers: [registry] }));
  const refusedName = "vmkeeper_agent_report_requests_refused_total";
  const refused = registeredMetric(registry, refusedName, () => new Counter({ name: refusedName, help: "Report requests refused as a whole, by reason", labelNames: ["reason"], registers: [registry] }));
  return {
    received: (kind, result) => received.inc({ kind, result }),
    refused: (reason) => refused.inc({ reason }),
  };
}
