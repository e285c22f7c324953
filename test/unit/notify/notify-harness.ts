import { PassThrough } from "node:stream";
import { Registry } from "prom-client";
import { buildIncidentEvent, INSTANCE_EVENT_NAMES, type IncidentCloudEvent, type IncidentEventName } from "../../../src/notify/incident-event.js";
import { prometheusNotificationMetrics, type NotificationMetrics } from "../../../src/notify/notification-metrics.js";
import type { DeliveryReport } from "../../../src/notify/webhook-notifier.js";
import { createLogger, type Logger } from "../../../src/util/logger.js";

/** A logger at debug level whose output the test can read. */
export function capturedLogger(): { logger: Logger; text: () => string } {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on("data", (d: Buffer) => chunks.push(d.toString()));
  return { logger: createLogger({ level: "debug", destination: out }), text: () => chunks.join("") };
}

export function metricsOn(): { registry: Registry; metrics: NotificationMetrics } {
  const registry = new Registry();
  return { registry, metrics: prometheusNotificationMetrics(registry) };
}

export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[];
  const match = values.find((v) => (v.metricName === undefined || v.metricName === name || v.metricName === `${name}_count`) && Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return match?.value ?? 0;
}

export async function histogramCount(registry: Registry, name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; metricName?: string }[];
  return values.find((v) => v.metricName === `${name}_count`)?.value ?? 0;
}

/** Reports collected by outcome, in order. */
export class ReportLog {
  readonly all: DeliveryReport[] = [];
  readonly on = (r: DeliveryReport): void => {
    this.all.push(r);
  };

  final(): DeliveryReport[] {
    return this.all.filter((r) => r.outcome !== "retrying");
  }

  of(eventId: string): DeliveryReport | undefined {
    return this.final().find((r) => r.eventId === eventId);
  }
}

/** An incident event with a recognisable owner-data instance name. */
export function event(n: number, name: IncidentEventName = "detected", incident = `lab.compute-${n}-1`): IncidentCloudEvent {
  return buildIncidentEvent(
    name,
    {
      namespace: "team-a",
      incident,
      cloud: "lab",
      host: `lab.compute-${n}`,
      epoch: 1,
      policies: [{ name: "web", mode: "NotifyOnly" }],
      instances: [{ id: `inst-${n}`, name: `owner-private-vm-${n}`, project: "p", policy: "web", state: "Notified" }],
      time: new Date("2026-01-01T00:00:00Z"),
    },
    INSTANCE_EVENT_NAMES.has(name) ? { instanceId: `inst-${n}` } : {},
  );
}
