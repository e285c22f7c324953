import { Counter, type Registry } from "prom-client";
import { registeredMetric } from "../../util/registered-metric.js";

export interface InstanceRecoveryMetricLabels {
  policy: string;
  namespace: string;
  /** Start, HardReboot, Notify. */
  action: string;
  /** Accepted, Refused, Failed (no or an unknown answer), NotRecovered, BudgetExhausted, Notified. */
  result: string;
}

export type InstanceRecoveryMetrics = (labels: InstanceRecoveryMetricLabels) => void;

/**
 * `vmkeeper_instance_recoveries_total{policy,namespace,action,result}`: every restart sent
 * (and Nova's answer), every restart that did not bring an instance back, every restart a
 * budget prevented, every notification. An alert on `result="BudgetExhausted"` or
 * `result="NotRecovered"` finds VMs that do not stay up.
 */
export function instanceRecoveryMetrics(registry: Registry): InstanceRecoveryMetrics {
  const name = "vmkeeper_instance_recoveries_total";
  const total = registeredMetric(
    registry,
    name,
    () => new Counter({ name, help: "VM-level recoveries (restarts in place) and their outcome, by policy", labelNames: ["policy", "namespace", "action", "result"], registers: [registry] }),
  );
  return (labels) => total.inc({ ...labels });
}
