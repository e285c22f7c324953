import { Counter, type Registry } from "prom-client";
import { registeredMetric } from "../../util/registered-metric.js";

/** action: Reboot, Stop, Log, Notify; result: Accepted, Refused, Failed, Logged, Notified, Skipped, BudgetExhausted, RefusedByGuest. */
export type GuestActionMetrics = (labels: { action: string; result: string }) => void;

/** `vmkeeper_guest_actions_total{action,result}`: every corrective action decided on an agent report, and its outcome. */
export function guestActionMetrics(registry: Registry): GuestActionMetrics {
  const name = "vmkeeper_guest_actions_total";
  const total = registeredMetric(registry, name, () => new Counter({ name, help: "Corrective actions on guest and domain reports from the host agents, by action and result", labelNames: ["action", "result"], registers: [registry] }));
  return (labels) => total.inc({ ...labels });
}
