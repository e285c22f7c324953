import { Counter, Histogram, type Registry } from "prom-client";
import type { Incident } from "../../api/v1alpha1/index.js";
import { registeredMetric } from "../../util/registered-metric.js";

/**
 * vmkeeper_incidents_total{type,result} and the phase durations of finished incidents,
 * measured from the Incident's own timestamps (detectedAt → confirmed → fenced → first
 * evacuation → recovered), so they mean the same after a controller restart.
 */
export function incidentMetrics(registry: Registry): (incident: Incident) => void {
  const get = <T>(name: string, make: () => T): T => registeredMetric(registry, name, make);
  const total = get("vmkeeper_incidents_total", () => new Counter({ name: "vmkeeper_incidents_total", help: "Incidents finished, by trigger and result phase", labelNames: ["type", "result"], registers: [registry] }));
  const buckets = [0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600];
  const hist = (name: string, help: string): Histogram =>
    get(name, () => new Histogram({ name, help, labelNames: ["cloud"], buckets, registers: [registry] }));
  const toFenced = hist("vmkeeper_incident_fencing_duration_seconds", "From detection to Fenced");
  const toFirstEvac = hist("vmkeeper_incident_first_evacuation_seconds", "From detection to the first accepted evacuation");
  const toRecovered = hist("vmkeeper_incident_recovery_duration_seconds", "From detection to all protected instances recovered");
  return (incident) => {
    total.inc({ type: incident.spec.trigger, result: incident.status?.phase ?? "Unknown" });
    const t0 = Date.parse(incident.spec.detectedAt);
    const ts = incident.status?.timestamps ?? {};
    const labels = { cloud: incident.spec.cloudRef.name };
    const observe = (h: Histogram, at: string | undefined): void => {
      if (at && Number.isFinite(t0)) h.observe(labels, Math.max(0, (Date.parse(at) - t0) / 1000));
    };
    observe(toFenced, ts.fencedAt);
    observe(toFirstEvac, ts.firstEvacuationAt);
    observe(toRecovered, ts.recoveredAt);
  };
}
