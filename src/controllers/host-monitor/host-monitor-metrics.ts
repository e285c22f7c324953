import { Gauge, type Registry } from "prom-client";
import type { DetectionDecision } from "../../recovery/model.js";
import { registeredMetric } from "../../util/registered-metric.js";

export type HostMonitorMetrics = (cloud: string, decision: DetectionDecision) => void;

const STATES = ["Healthy", "Degraded", "Suspect", "Failed", "Unknown"] as const;

/**
 * `vmkeeper_hosts{cloud,state}` and `vmkeeper_safety_gate_closed{cloud,gate}` (1 while a
 * gate blocks fencing), refreshed by every pass: what an alert on "recovery is blocked"
 * or "hosts are failing" needs.
 */
export function hostMonitorMetrics(registry: Registry): HostMonitorMetrics {
  const get = (name: string, help: string, labelNames: string[]): Gauge =>
    registeredMetric(registry, name, () => new Gauge({ name, help, labelNames, registers: [registry] }));
  const hosts = get("vmkeeper_hosts", "Compute hosts by assessed health state", ["cloud", "state"]);
  const gates = get("vmkeeper_safety_gate_closed", "1 while the safety gate blocks fencing and recovery for the cloud", ["cloud", "gate"]);
  return (cloud, decision) => {
    for (const state of STATES) hosts.set({ cloud, state }, decision.assessments.filter((a) => a.state === state).length);
    for (const g of decision.gates) gates.set({ cloud, gate: g.gate }, g.blocked ? 1 : 0);
  };
}
