import { Gauge, type Registry } from "prom-client";
import type { Incident, IncidentPhase, InstanceHAPolicy } from "../api/v1alpha1/index.js";
import type { Clock } from "../util/clock.js";

/** Phases after which an Incident does nothing more (plan-incident-step's terminal phases). */
const FINISHED: readonly IncidentPhase[] = ["Recovered", "Failed", "Suppressed", "Notified"];

export interface ResourceMetricSources {
  incidents: () => readonly Incident[];
  policies: () => readonly InstanceHAPolicy[];
}

/**
 * Gauges read from the informer caches at scrape time, on every replica (the caches are
 * warm on standbys too), so alerts on stuck incidents and missing failover capacity need
 * no leader:
 * - `vmkeeper_incidents_open{namespace,cloud,phase}`: Incidents not yet in a final phase;
 * - `vmkeeper_incident_oldest_open_seconds{namespace,cloud}`: age of the oldest of them;
 * - `vmkeeper_failover_capacity_sufficient{namespace,policy}`: 1 / 0 from the policy's
 *   FailoverCapacitySufficient condition (no series while the condition is unknown);
 * - `vmkeeper_host_failures_tolerated{namespace,policy}`: status.hostFailuresTolerated.
 */
export function registerResourceMetrics(registry: Registry, clock: Clock, src: ResourceMetricSources): void {
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void): void => {
    if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); collect(this); } });
  };
  const open = (): Incident[] => src.incidents().filter((i) => !FINISHED.includes(i.status?.phase ?? "Detected"));
  gauge("vmkeeper_incidents_open", "Incidents not yet in a final phase (Recovered, Failed, Suppressed, Notified), by phase", ["namespace", "cloud", "phase"], (g) => {
    for (const i of open()) g.inc({ namespace: i.metadata?.namespace ?? "", cloud: i.spec.cloudRef.name, phase: i.status?.phase ?? "Detected" });
  });
  gauge("vmkeeper_incident_oldest_open_seconds", "Seconds since the oldest open Incident of the cloud was detected", ["namespace", "cloud"], (g) => {
    const oldest = new Map<string, { labels: { namespace: string; cloud: string }; age: number }>();
    for (const i of open()) {
      const labels = { namespace: i.metadata?.namespace ?? "", cloud: i.spec.cloudRef.name };
      const age = Math.max(0, (clock.now().getTime() - Date.parse(i.spec.detectedAt)) / 1000);
      const key = `${labels.namespace}/${labels.cloud}`;
      if (Number.isFinite(age) && age >= (oldest.get(key)?.age ?? -1)) oldest.set(key, { labels, age });
    }
    for (const { labels, age } of oldest.values()) g.set(labels, age);
  });
  gauge("vmkeeper_failover_capacity_sufficient", "1 when the InstanceHAPolicy's FailoverCapacitySufficient condition is True, 0 when False", ["namespace", "policy"], (g) => {
    for (const p of src.policies()) {
      const c = p.status?.conditions?.find((x) => x.type === "FailoverCapacitySufficient");
      if (c?.status === "True" || c?.status === "False") g.set(policyLabels(p), c.status === "True" ? 1 : 0);
    }
  });
  gauge("vmkeeper_host_failures_tolerated", "Host failures the InstanceHAPolicy's free capacity absorbs (status.hostFailuresTolerated)", ["namespace", "policy"], (g) => {
    for (const p of src.policies()) {
      if (p.status?.hostFailuresTolerated !== undefined) g.set(policyLabels(p), p.status.hostFailuresTolerated);
    }
  });
}

function policyLabels(p: InstanceHAPolicy): { namespace: string; policy: string } {
  return { namespace: p.metadata?.namespace ?? "", policy: p.metadata?.name ?? "" };
}
